"""Enedis SGE file-channel sandbox: an SFTP drop of encrypted R151 files and a control API."""
