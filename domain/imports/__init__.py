"""Importing a shop's existing customers and purchases from CSV files.

A file is read and checked completely first, row by row, with line numbers as a text editor
shows them (the header is line 1). Only a file without a single bad row is imported, in one
transaction: a file goes in completely or not at all. Importing the same file again changes
nothing: customers are known by the shop's customer number (``Customer.external_ref``),
purchases by an idempotency key made of the customer number and the receipt number or,
without one, the purchase's content and its position among identical rows of the file.

Imports never send messages (no outbox rows) and never imply marketing consent.

Large files (up to ``MAX_ROWS`` rows) are looked up and written in batches, not one
statement per row, so that the transaction (on SQLite: the write lock) stays short.

One module per job; the first two are pure (bytes and text in, values out, no session):

- ``csv_file``: the file as text and rows: encoding, delimiter, header columns, kind, limits;
- ``fields``: the values of a row (names, phones, birthdays, points, dates, amounts) and the
  records of a whole file (``read_file``);
- ``writing``: what an import would change (plans, the report of a dry run) and the batched,
  idempotent writes; the use cases (``run_import``);
- ``pending``: the import waiting for the owner's "Importieren" (a conversation step).

Everything public is importable from ``domain.imports`` itself, as before the split.
"""

from domain.imports.csv_file import (COLUMNS, CUSTOMER_COLUMNS, CUSTOMERS, DELIMITERS, KINDS, MAX_BYTES, MAX_MEGABYTES,
                                     MAX_ROWS, PURCHASE_COLUMNS, PURCHASES, Column, FileError, Row, RowProblem, Table,
                                     decode, detect_kind, expected_header, read_table)
from domain.imports.fields import (MAX_AMOUNT, MAX_LENGTH, MAX_POINTS, CustomerRecord, ParsedFile, PurchaseRecord,
                                   parse_birthday, parse_import_amount, parse_phone, parse_points, parse_purchase_time,
                                   purchase_key, read_customers, read_file, read_purchases, short, to_utc)
from domain.imports.writing import (CustomerPlan, ImportReport, PurchasePlan, customer_ids_by_number, import_customers,
                                    import_parsed, import_purchases, imported_purchase_ids, plan_customers,
                                    plan_purchases, run_import)
from domain.imports.pending import (PENDING_STEP, PendingImport, claim_pending, confirm_pending, digest_of,
                                    pending_import, remember_pending)

__all__ = [
    "COLUMNS", "CUSTOMER_COLUMNS", "CUSTOMERS", "DELIMITERS", "KINDS", "MAX_BYTES", "MAX_MEGABYTES", "MAX_ROWS",
    "PURCHASE_COLUMNS", "PURCHASES", "Column", "FileError", "Row", "RowProblem", "Table", "decode", "detect_kind",
    "expected_header", "read_table",
    "MAX_AMOUNT", "MAX_LENGTH", "MAX_POINTS", "CustomerRecord", "ParsedFile", "PurchaseRecord", "parse_birthday",
    "parse_import_amount", "parse_phone", "parse_points", "parse_purchase_time", "purchase_key", "read_customers",
    "read_file", "read_purchases", "short", "to_utc",
    "CustomerPlan", "ImportReport", "PurchasePlan", "customer_ids_by_number", "import_customers", "import_parsed",
    "import_purchases", "imported_purchase_ids", "plan_customers", "plan_purchases", "run_import",
    "PENDING_STEP", "PendingImport", "claim_pending", "confirm_pending", "digest_of", "pending_import",
    "remember_pending",
]
