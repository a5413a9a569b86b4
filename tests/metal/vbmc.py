#!/usr/bin/python3
"""Virtual BMC for one emulated bare-metal node: IPMI (pyghmi) on udp 127.0.0.1:PORT drives a real qemu.

The IPMI side is tests/services/bmc-emulator.py's EmulatedBmc (imported from its path, subclassed): same
credentials (BMC_USER / BMC_PASSWORD), same JSON state file (VM_DIR/bmc-<port>.json) and log lines. This
class only maps its power and boot-device hooks onto one qemu process (TCG, no libvirt):

  power on      start qemu with the current boot device (no-op when it runs)
  power off     QMP `quit` (qemu closes its disks cleanly), then SIGTERM, then SIGKILL, by pid
  power soft    QMP `system_powerdown` (ACPI button) and return at once, like a real BMC; a watchdog thread
                powers off hard if qemu still runs after VBMC_SOFT_OFF_TIMEOUT seconds (default 120)
  power reset / power cycle
                off + on: a new qemu process, so a boot device set meanwhile applies
  mc reset cold (cold_reset)
                resets the BMC, never the host: logged, the VM keeps running (real BMC semantics)
  power status  whether the qemu pid is alive (a guest that powers itself off makes qemu exit)

Boot device (`chassis bootdev pxe|disk [options=persistent]`, or Ironic's raw 0x00 0x08 0x05 <flags> <dev>):
  pxe (network) -> qemu -boot n: SeaBIOS runs the virtio NIC's iPXE ROM (Debian ipxe-qemu), slirp's DHCP
                   hands it bootfile=PXE_BOOTFILE_URL (default http://10.0.2.2:8089/boot.ipxe: the guest's
                   view of the host's 127.0.0.1:8089, Ironic's iPXE http server)
  disk (hd)     -> qemu -boot c: the virtio disk
  default       -> -boot order=cn (disk, then network), as a real BIOS boot order would
(qemu's legacy -boot letters set SeaBIOS's order, they do not restrict it: an unbootable disk still falls
through to the NIC's iPXE, like most real BIOSes; `strict=on` only acts on bootindex=, which -boot once=
cannot undo at a guest reboot, so it is not used.)
A one-time device (IPMI's default) applies to the next power on only: that qemu gets `-boot once=X,order=P`
(P = the persistent/default order) and the BMC forgets it. A persistent device stays for every power on.
The EFI bit of the flags is recorded but the VMs are legacy BIOS (SeaBIOS): give the Ironic nodes
boot_mode bios.

Reboots: qemu runs WITHOUT -no-reboot. A guest reboot (the OS's `reboot`) resets the machine inside the
same qemu process: power stays on, as on real hardware, and qemu's own `-boot once=` semantics make a
one-time device apply to the first boot only, the reset then uses the persistent order. A guest power off
(ACPI S5: `poweroff`, IPA's power_off) makes qemu exit: power status reads off. Ironic's own reboots are
IPMI power off + power on (ipmi power interface's reboot), i.e. a fresh qemu with the new boot device.

Files in VM_DIR: bmc-<port>.json (the emulator's state), vm.json (this VM: boot flags, pid, ports),
qemu.pid (+ .start: the pid's start time, so a recycled pid is never taken for ours), qemu.cmdline (the
command line of the current/last power on, shell-quoted), qemu.log (qemu's stderr), console.log (serial,
appended, one marker line per power on), qmp.sock (QMP).

Usage: vbmc.py --index I --vm-dir DIR --port P [--pxe-url URL] [--disk FILE] [--ram MB]
The qemu it starts survives a restart of vbmc (it is adopted back from qemu.pid); tests/metal/vms.sh down
stops both.
"""
import argparse
import importlib.util
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True   # never leave a __pycache__ in tests/services
EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'services', 'bmc-emulator.py')
_spec = importlib.util.spec_from_file_location('bmc_emulator', EMULATOR)
bmc_emulator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bmc_emulator)
bmc = bmc_emulator.bmc  # pyghmi.ipmi.bmc, as the emulator imported it

# pyghmi's names (what set_system_boot_options passes to set_boot_device) -> qemu -boot drive letters
QEMU_BOOT = {'network': 'n', 'hd': 'c', 'safe': 'c', 'optical': 'd'}
DEFAULT_ORDER = 'cn'  # no override: disk first, then the network, like a BIOS boot order
# boot parameter 5, data byte 1 (IPMI 2.0 table 28-14): valid, persistent, EFI
FLAG_VALID, FLAG_PERSISTENT, FLAG_EFI = 0x80, 0x40, 0x20


def starttime(pid):
    """Field 22 of /proc/PID/stat, or None; and whether the process is a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None, False
    return fields[19], fields[0] == 'Z'


class Qmp:
    """The few QMP commands a BMC needs, one connection per command."""

    def __init__(self, path):
        self.path = path

    def command(self, name, timeout=3.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(max(0.1, deadline - time.monotonic()))
                s.connect(self.path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with s:
            f = s.makefile('rwb')

            def call(cmd):
                f.write(json.dumps({'execute': cmd}).encode() + b'\n')
                f.flush()
                while True:  # skip asynchronous events
                    line = f.readline()
                    if not line:
                        return None  # qemu closed the socket: fine after `quit`
                    msg = json.loads(line)
                    if 'return' in msg or 'error' in msg:
                        return msg

            json.loads(f.readline())  # greeting
            call('qmp_capabilities')
            return call(name)


class QemuBmc(bmc_emulator.EmulatedBmc):
    def __init__(self, args, user, password):
        self.a = args
        self.vm_dir = args.vm_dir
        self.lock = threading.RLock()
        self.proc = None          # subprocess.Popen of the qemu we started (None: none, or adopted)
        self.pid = None
        self.persist_dev = 'default'   # the persistent boot device
        self.once_dev = None           # a one-time boot device not yet used by a power on
        self.efi = False
        self._flags = None
        self._stopping = False         # inside _stop: qemu's exit is expected, _stop logs it
        self.pidfile = os.path.join(self.vm_dir, 'qemu.pid')
        self.qmp = Qmp(os.path.join(self.vm_dir, 'qmp.sock'))
        self._load_vm_state()
        super().__init__(self.vm_dir, args.port, user, password)   # binds udp 127.0.0.1:port, saves 'start'
        self._adopt()
        self.bootdev = self.once_dev or self.persist_dev
        self._save('vbmc start (qemu %s)' % ('pid %d adopted' % self.pid if self.pid else 'off'))
        threading.Thread(target=self._watch, daemon=True).start()

    # ------------------------------------------------------------ state
    def _vm_state_path(self):
        return os.path.join(self.vm_dir, 'vm.json')

    def _load_vm_state(self):
        try:
            with open(self._vm_state_path()) as f:
                st = json.load(f)
        except (OSError, ValueError):
            return
        self.persist_dev = st.get('persistent_bootdev', 'default')
        self.once_dev = st.get('once_bootdev')
        self.efi = bool(st.get('efi', False))

    def _save(self, event):
        # the emulator's JSON + log line first, then what only a qemu-backed BMC knows
        super()._save(event)
        st = {'index': self.a.index, 'bmc_port': self.port, 'power': self.power,
              'bootdev': self.bootdev, 'persistent_bootdev': self.persist_dev, 'once_bootdev': self.once_dev,
              'efi': self.efi, 'qemu_pid': self.pid, 'mac': self.a.mac, 'ssh_port': self.a.ssh_port,
              'agent_port': self.a.agent_port, 'pxe_url': self.a.pxe_url, 'disk': self.a.disk}
        tmp = self._vm_state_path() + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(st, f, indent=1)
        os.replace(tmp, self._vm_state_path())

    # ------------------------------------------------------------ qemu process
    def _alive(self):
        if self.pid is None:
            return False
        if self.proc is not None:
            if self.proc.poll() is None:
                return True
            self._exited('qemu pid %d exited rc=%s' % (self.pid, self.proc.returncode))
            return False
        st, zombie = starttime(self.pid)
        if st is not None and st == self._pid_start and not zombie:
            return True
        self._exited('qemu pid %d (adopted) is gone' % self.pid)
        return False

    def _exited(self, why):
        self.pid = self.proc = None
        for p in (self.pidfile, self.pidfile + '.start'):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
        if self.power != 'off' and not self._stopping:
            self.power = 'off'
            self._save(why)

    def _adopt(self):
        try:
            with open(self.pidfile) as f:
                pid = int(f.read())
            with open(self.pidfile + '.start') as f:
                self._pid_start = f.read().strip()
        except (OSError, ValueError):
            return
        self.pid = pid
        if self._alive():
            self.power = 'on'

    def _watch(self):
        # notice a guest power off (qemu exits) in the JSON state, and reap the child
        while True:
            time.sleep(1)
            with self.lock:
                self._alive()

    def qemu_cmd(self, boot):
        a = self.a
        net = ('user,id=net0,hostfwd=tcp:127.0.0.1:%d-:22,hostfwd=tcp:127.0.0.1:%d-:9999,bootfile=%s'
               % (a.ssh_port, a.agent_port, a.pxe_url))
        return ['qemu-system-x86_64', '-name', 'metal-vm%d' % a.index, '-accel', 'tcg',
                '-m', str(a.ram), '-smp', '1', '-nographic',
                '-boot', boot,
                '-drive', 'file=%s,if=virtio,format=qcow2,cache=writeback' % a.disk,
                '-netdev', net, '-device', 'virtio-net-pci,netdev=net0,mac=%s' % a.mac,
                '-device', 'virtio-rng-pci',
                '-chardev', 'file,id=serial0,path=%s,append=on' % os.path.join(self.vm_dir, 'console.log'),
                '-serial', 'chardev:serial0', '-monitor', 'none', '-parallel', 'none',
                '-qmp', 'unix:%s,server=on,wait=off' % self.qmp.path]

    def _boot_arg(self):
        order = QEMU_BOOT.get(self.persist_dev, DEFAULT_ORDER)
        if self.once_dev and self.once_dev != self.persist_dev:
            return 'once=%s,order=%s' % (QEMU_BOOT.get(self.once_dev, DEFAULT_ORDER), order), self.once_dev
        return 'order=%s' % order, self.persist_dev

    def _start(self, event):
        if self._alive():
            return 0
        boot, dev = self._boot_arg()
        cmd = self.qemu_cmd(boot)
        line = ' '.join(shlex.quote(c) for c in cmd)
        with open(os.path.join(self.vm_dir, 'qemu.cmdline'), 'w') as f:
            f.write(line + '\n')
        with open(os.path.join(self.vm_dir, 'console.log'), 'a') as f:
            f.write('\n==== vbmc %s: %s vm%d boot %s (-boot %s) ====\n'
                    % (time.strftime('%Y-%m-%d %H:%M:%S'), event, self.a.index, dev, boot))
        try:
            os.unlink(self.qmp.path)
        except FileNotFoundError:
            pass
        qlog = open(os.path.join(self.vm_dir, 'qemu.log'), 'a')
        qlog.write('%s %s: %s\n' % (time.strftime('%H:%M:%S'), event, line))
        qlog.flush()
        # nice/ionice: a CI-like run shares the 2 host cores. Own session: signals to vbmc never reach it.
        self.proc = subprocess.Popen(['nice', '-n', '19', 'ionice', '-c3'] + cmd, stdin=subprocess.DEVNULL,
                                     stdout=qlog, stderr=qlog, start_new_session=True, cwd=self.vm_dir)
        qlog.close()
        self.pid = self.proc.pid   # nice and ionice exec: this becomes qemu's pid
        self._pid_start = None
        for _ in range(50):
            self._pid_start, _z = starttime(self.pid)
            if self._pid_start:
                break
            time.sleep(0.01)
        with open(self.pidfile + '.start', 'w') as f:
            f.write('%s\n' % self._pid_start)
        with open(self.pidfile, 'w') as f:
            f.write('%d\n' % self.pid)
        time.sleep(0.3)   # a qemu that refuses its command line exits at once: fail the IPMI command then
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self.power = 'on'   # so that _exited records it
            self._exited('%s: qemu exited at once rc=%s (see %s/qemu.log)' % (event, rc, self.vm_dir))
            return 0xd5   # IPMI completion code: cannot execute command in the present state
        if self.once_dev:   # IPMI: a one-time boot device is used by this boot, then forgotten
            self.once_dev = None
        self.power = 'on'
        self.bootdev = self.persist_dev
        self._save('%s: qemu pid %d -boot %s' % (event, self.pid, boot))
        return 0

    def _stop(self, event):
        if not self._alive():
            return
        pid, how = self.pid, 'qmp quit'
        self._stopping = True
        try:
            try:
                self.qmp.command('quit', timeout=1.0)
            except (OSError, ValueError):
                how = 'SIGTERM'
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            if not self._wait_gone(5.0):
                how += ' + SIGKILL'
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._wait_gone(5.0)
        finally:
            self._stopping = False
        self.power = 'off'
        self._save('%s: qemu pid %d stopped (%s)' % (event, pid, how))

    def _wait_gone(self, timeout):
        deadline = time.monotonic() + timeout
        while self._alive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # ------------------------------------------------------------ pyghmi hooks
    def get_power_state(self):
        with self.lock:
            return 'on' if self._alive() else 'off'

    def power_on(self):
        with self.lock:
            return self._start('power_on')

    def power_off(self):
        with self.lock:
            self._stop('power_off')

    def power_reset(self):
        with self.lock:
            self._stop('power_reset')
            return self._start('power_reset')

    def power_cycle(self):
        with self.lock:
            self._stop('power_cycle')
            return self._start('power_cycle')

    def power_shutdown(self):
        with self.lock:
            if not self._alive():
                return
            pid = self.pid
            try:
                self.qmp.command('system_powerdown')
            except (OSError, ValueError) as e:
                self._save('power_shutdown: QMP failed (%s): hard off' % e)
                self._stop('power_shutdown')
                return
            self._save('power_shutdown: ACPI power button sent to qemu pid %d (hard off after %ds)'
                       % (pid, self.a.soft_off_timeout))
        threading.Thread(target=self._soft_off_watchdog, args=(pid,), daemon=True).start()

    def _soft_off_watchdog(self, pid):
        deadline = time.monotonic() + self.a.soft_off_timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.pid != pid or not self._alive():
                    return
            time.sleep(0.5)
        with self.lock:
            if self.pid == pid:
                self._stop('power_shutdown timeout')

    def cold_reset(self):
        # `mc reset cold` resets the BMC, not the server
        with self.lock:
            self._save('cold_reset (BMC only: the VM keeps its power state)')
        return 0

    def get_boot_device(self):
        with self.lock:
            return self.once_dev or self.persist_dev

    def set_system_boot_options(self, request, session):
        # pyghmi's handler drops data byte 1 (valid / persistent / EFI): keep it for set_boot_device
        data = request['data']
        self._flags = data[1] if data and data[0] == 5 and len(data) > 1 else None
        return super().set_system_boot_options(request, session)

    def get_system_boot_options(self, request, session):
        if request['data'][0] != 5:
            return super().get_system_boot_options(request, session)
        with self.lock:
            dev = self.once_dev or self.persist_dev
            flags = 0
            if dev != 'default':
                flags = FLAG_VALID | (0 if self.once_dev else FLAG_PERSISTENT) | (FLAG_EFI if self.efi else 0)
        return session.send_ipmi_response(data=[1, 5, flags, bmc.ipmicommand.boot_devices.get(dev, 0), 0, 0, 0])

    def set_boot_device(self, bootdevice):
        with self.lock:
            flags = FLAG_VALID if self._flags is None else self._flags
            self._flags = None
            if not flags & FLAG_VALID:
                self.once_dev = None
                self._save('set_boot_device %s with the valid bit clear: override cleared' % bootdevice)
                return
            self.efi = bool(flags & FLAG_EFI)
            persistent = bool(flags & FLAG_PERSISTENT)
            if persistent:
                self.persist_dev, self.once_dev = bootdevice, None
            else:
                self.once_dev = bootdevice
            self.bootdev = self.once_dev or self.persist_dev
            self._save('set_boot_device %s %s%s' % (bootdevice, 'persistent' if persistent else 'next-boot',
                                                   ' efi' if self.efi else ''))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--index', type=int, required=True, help='VM number i (1..N): MAC and ports derive from it')
    p.add_argument('--vm-dir', required=True)
    p.add_argument('--port', type=int, help='IPMI udp port (default VMS_BMC_PORT_BASE(16230) + i)')
    p.add_argument('--disk', help='default VM_DIR/disk.qcow2')
    p.add_argument('--ram', type=int, default=int(os.environ.get('VM_RAM', '2048')), help='MiB (VM_RAM)')
    p.add_argument('--pxe-url', default=os.environ.get('PXE_BOOTFILE_URL', 'http://10.0.2.2:8089/boot.ipxe'),
                   help='iPXE bootfile URL handed out by slirp DHCP (PXE_BOOTFILE_URL)')
    p.add_argument('--soft-off-timeout', type=int, default=int(os.environ.get('VBMC_SOFT_OFF_TIMEOUT', '120')))
    a = p.parse_args()
    if not 1 <= a.index <= 240:
        p.error('--index must be 1..240')
    a.vm_dir = os.path.abspath(a.vm_dir)
    os.makedirs(a.vm_dir, exist_ok=True)
    a.port = a.port or int(os.environ.get('VMS_BMC_PORT_BASE', '16230')) + a.index
    a.disk = os.path.abspath(a.disk or os.path.join(a.vm_dir, 'disk.qcow2'))
    last = 0x0a + a.index
    a.mac = '52:54:00:00:00:%02x' % last
    a.ssh_port, a.agent_port = 22000 + a.index, 20000 + last
    if len(os.path.join(a.vm_dir, 'qmp.sock')) > 100:
        p.error('VM dir path too long for a unix socket: %s' % a.vm_dir)
    if not os.path.exists(a.disk):
        p.error('no disk %s (tests/metal/vms.sh up creates it)' % a.disk)
    user = os.environ.get('BMC_USER', 'admin')
    password = os.environ.get('BMC_PASSWORD', 'password')
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))   # leave qemu running: vms.sh down stops it
    QemuBmc(a, user, password)
    print('vbmc vm%d listening on udp 127.0.0.1:%d (user %s): mac %s ssh 127.0.0.1:%d agent 127.0.0.1:%d pxe %s'
          % (a.index, a.port, user, a.mac, a.ssh_port, a.agent_port, a.pxe_url), flush=True)
    bmc.Bmc.listen(timeout=30)


if __name__ == '__main__':
    main()
