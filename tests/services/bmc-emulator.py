#!/usr/bin/python3
"""IPMI BMC emulator on loopback (pyghmi from Debian's python3-pyghmi), one virtual BMC per UDP port.

Lets Ironic's `ipmi` hardware type really talk IPMI (ipmitool lanplus): power on/off/reset/cycle,
boot device, chassis status. Every command is logged to stdout (the service log), and the current state of
each BMC is kept in STATE_DIR/bmc-<port>.json so tests can assert what Ironic did.

Usage: bmc-emulator.py STATE_DIR PORT [PORT ...]
Credentials come from the environment: BMC_USER (default admin), BMC_PASSWORD (default password).
Binds 127.0.0.1 only.
"""
import json
import os
import sys
import time

import pyghmi.ipmi.bmc as bmc


class EmulatedBmc(bmc.Bmc):
    def __init__(self, state_dir, port, user, password):
        super().__init__({user: password}, port=port, address='127.0.0.1')
        self.port = port
        self.path = os.path.join(state_dir, 'bmc-%d.json' % port)
        self.power = 'off'
        self.bootdev = 'default'
        self.history = []
        self._save('start')

    def _save(self, event):
        self.history = (self.history + ['%s %s' % (time.strftime('%H:%M:%S'), event)])[-50:]
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'port': self.port, 'power': self.power, 'bootdev': self.bootdev, 'history': self.history}, f)
        os.replace(tmp, self.path)
        print('bmc 127.0.0.1:%d %s -> power=%s bootdev=%s' % (self.port, event, self.power, self.bootdev), flush=True)

    def get_power_state(self):
        return self.power

    def power_off(self):
        self.power = 'off'
        self._save('power_off')

    def power_on(self):
        self.power = 'on'
        self._save('power_on')

    def power_shutdown(self):
        self.power = 'off'
        self._save('power_shutdown')

    def power_reset(self):
        self._save('power_reset')

    def power_cycle(self):
        self.power = 'on'
        self._save('power_cycle')

    def get_boot_device(self):
        return self.bootdev

    def set_boot_device(self, bootdevice):
        self.bootdev = bootdevice
        self._save('set_boot_device %s' % bootdevice)

    def cold_reset(self):
        self._save('cold_reset')


def main():
    state_dir, ports = sys.argv[1], [int(p) for p in sys.argv[2:]] or [6230]
    user = os.environ.get('BMC_USER', 'admin')
    password = os.environ.get('BMC_PASSWORD', 'password')
    for p in ports:
        EmulatedBmc(state_dir, p, user, password)
    print('BMC emulator listening on udp 127.0.0.1:%s (user %s)' % (','.join(map(str, ports)), user), flush=True)
    bmc.Bmc.listen(timeout=30)


if __name__ == '__main__':
    main()
