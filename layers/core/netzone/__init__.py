"""netzone: the domain of an open, serverless Network Zone for library consortia.

Nothing here calls AWS at import time or reads the environment directly (settings come from
`netzone.settings`); the domain knows no HTTP. Ports are `Protocol`s beside the code that uses
them; `adapters` implements them on AWS. Every module, by what it holds:

Records
    marc/           reading and writing MARC records with pymarc, streamed, within ISO 2709's limits
    normalize/      normalized identifiers and descriptive elements of a record
    kbart           KBART Phase II title lists: rows parsed into electronic portfolios
    brief_records   the brief MARC record of a KBART row that no network record matches
    matching/       one record per manifestation (its `__init__` is the facade), below
    merge           the network record of a cluster, a pure function of its source records

Feeds (a provider's file, from the bucket to the catalog)
    providers       feed providers as ingest knows them: feed keys, the registry's `FeedProvider`
    screening       what each record or KBART row read becomes: an item for matching, or a reject
    ingest          from a file to batches on MatchQueue, every record accounted for
    kbart_ingest    KBART title lists in ingest and check: rows screened into portfolio rows
    batches         the MatchQueue messages (`RecordBatch`, `PortfolioBatch`), wire format, seen marks
    jobs            feed jobs, the outcome of every record, and the ledger that keeps them
    completion      finishing a job: full-replacement withdrawals, report, rejects file, event
    dead_letters    dead-lettered MatchQueue messages accounted on their jobs

Catalog
    catalog         the catalog's records (source records, clusters, key items, review tasks), its store
    record_filing   filing source records into clusters (match, merge, create, review task)
    cluster_writer  one record's change written: a cluster created, joined, recomputed, left; keys claimed
    catalog_cache   the catalog store as one batch sees it: key items and clusters read once
    portfolio_filing filing electronic portfolios on network records
    review          catalogers' decisions: the review queue, accept, reject, split (unmerge)
    contributions   members' records contributed through the API
    discovery       what discovery systems read: records, portfolios, source records, feed jobs

Network
    network         the network model: the consortium, members, libraries, groups, providers, staff; ports
    network_service what staff do to the network: each change checked, versioned and audited
    access          staff roles and what each may do
    paging          signed paging tokens bound to a list and a scope

Shared
    errors          the domain's errors, each with a stable code
    retry           retrying a write that lost an optimistic-locking race
    models          the base of every model a client writes (strict)
    clock           timestamps as the network stores them, audit entry ids
    settings        each function's settings, validated from its environment
    cli             the `netzone` command line (feeds, login)
    adapters/       the ports implemented on AWS; clients made lazily, honouring AWS_ENDPOINT_URL

marc/ (its `__init__` is the public API: `marc.read_records`, `marc.pack`, ...)
    feed_format         opening a feed: gzip or not, and its format, told from the content
    readers             a feed's records by its format (`read_records`, `read_opened`)
    read_result         `ReadResult`, what reading one record gives
    limits              ISO 2709's size limits, a record's ISO 2709 size, the reasons of a reject
    iso2709             ISO 2709 framed on the record terminator, pymarc's warnings collected
    iso2709_diagnosis   what is wrong with an ISO 2709 record, and where (MARC-8, UTF-8, directory)
    marcxml             MARCXML through pymarc's SAX handler, streamed, held to the limits
    marc_json           MARC-in-JSON, JSON lines or one document
    json_frames         MARC-in-JSON cut into records without parsing, in bounded memory
    forms               MARC-in-JSON and MARCXML forms, a rejects file's formats, the storage form
    streams             byte streams: read in chunks, in full, with peeked bytes put back

normalize/ (its `__init__` is the public API: `normalize.isbn`, `normalize.title`, ...)
    standard_numbers    identifiers: ISBN, ISSN, OCLC number, LCCN, and all of a record's
    folding             text folded for comparison (`fold`)
    titles              titles (245 and the other title fields), numbers in a title
    names               personal and corporate names: headings, surnames
    publication         dates, publisher, edition, extent and dimensions
    formats             content type, bibliographic level and carrier (`format_of`)
    marc_fields         what the normalizers read of a record (`MarcFields`)

matching/
    profiles             the match profile of a record: every normalized element compared, derived once
    keys                 match keys, short strings under which a record's duplicates meet it
    features             field-by-field comparison of two profiles: the comparators in order, identifiers
    title_features       comparators of the title area: title proper, whole title, subtitle, part
    description_features comparators of names, date, edition, extent, publisher, series, carrier
    levels               `Level`, what a comparator says of one element of two records
    similarity           measures of likeness of sets and words the comparators use
    model                the score and the decision; weights.json is fitted by tools/fit_matching.py

adapters/
    dynamodb        what the DynamoDB adapters share: item codec, batch reads and writes, conditions
    catalog_store   the catalog table: source records, clusters, key items, review tasks
    job_store       the jobs table: feed jobs, their counters, rejects and warnings
    network_store   the network table (objects and audit)
    portfolio_store portfolios in the catalog table
    s3              feed files read as streams, report and rejects objects
    sqs             MatchQueue: batches and job steps
    events          the EventBridge bus (`FeedCompleted`)
    cognito         staff identities in the user pool
"""

__version__ = "0.1.0"
