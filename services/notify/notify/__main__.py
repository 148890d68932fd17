from notify.app import COMMANDS, Settings, spec
from metro.cli import main

main(spec, Settings, COMMANDS)
