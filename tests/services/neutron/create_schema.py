#!/usr/bin/python3
"""Create Neutron's schema from the models (neutron.sh then stamps the alembic heads).

Neutron's own unit tests build their schemas from the models the same way. It takes seconds, where
neutron-db-manage's ~300 alembic migrations take minutes on MariaDB (and cannot run on sqlite at all:
mitaka/expand/1df244e556f5 fails with "No support for ALTER of constraints in SQLite dialect").
Usage: create_schema.py NEUTRON_CONF"""
import sys

from oslo_config import cfg
import sqlalchemy as sa


def main():
    conf_file = sys.argv[1]
    from oslo_db import options as db_options
    db_options.set_defaults(cfg.CONF)
    cfg.CONF(['--config-file', conf_file], project='neutron')
    from neutron.db.migration.models import head
    engine = sa.create_engine(cfg.CONF.database.connection)
    head.get_metadata().create_all(engine)
    print('created %d tables' % len(head.get_metadata().tables))


if __name__ == '__main__':
    main()
