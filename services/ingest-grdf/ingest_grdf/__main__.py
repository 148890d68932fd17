"""python -m ingest_grdf serve | migrate | replay [--meter ID] [--pce PCE] [--from DAY] [--to DAY]"""
from functools import partial

from ingest_grdf import service
from ingest_grdf.app import Settings, spec
from metro.cli import main
from metro.collection import add_replay_arguments

main(spec, Settings, commands={"replay": (service.replay, partial(add_replay_arguments, identifier="PCE"))})
