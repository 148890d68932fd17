"""python -m ingest_enedis serve | migrate | replay [--meter ID] [--prm PRM] [--from DAY] [--to DAY]"""
from functools import partial

from ingest_enedis import service
from ingest_enedis.app import Settings, spec
from metro.cli import main
from metro.collection import add_replay_arguments

main(spec, Settings, commands={"replay": (service.replay, partial(add_replay_arguments, identifier="PRM"))})
