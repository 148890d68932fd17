"""python -m consent serve | migrate | dlq ... | import-addresses FILE [--dry-run]"""
from consent import addresses
from consent.app import Settings, spec
from metro.cli import main

main(spec, Settings, commands={"import-addresses": (addresses.import_command, addresses.add_import_arguments)})
