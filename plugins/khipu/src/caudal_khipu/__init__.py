"""caudal-khipu: Khipu's open-data API as caudal connectors (afc.cl, bancosecurity.cl).

Importing this package loads nothing heavy; the registry imports `caudal_khipu.afc` or
`caudal_khipu.bancosecurity` when a host app asks for that connector, and the sandbox imports
`caudal_khipu.emulator`.
"""
