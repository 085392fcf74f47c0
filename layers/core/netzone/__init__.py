"""netzone: the domain of an open, serverless Network Zone for library consortia.

Modules read top-down: `marc` (reading and writing records), `normalize` (identifiers),
`feeds` (feed jobs, validation, batching), `catalog` (source records and clusters),
`merge` (the network record of a cluster), and `adapters` (DynamoDB, S3, SQS) behind
small interfaces. Nothing here calls AWS at import time or reads the environment directly:
settings come from `netzone.settings`.
"""

__version__ = "0.1.0"
