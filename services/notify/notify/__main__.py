from notify.app import Settings, spec
from metro.cli import main

main(spec, Settings)
