//! Local emulator of the Selling Partner API endpoints the invoice bridge talks to, the Amazon
//! Business Ordering, Reconciliation and Document (Reports) APIs, and the Login-with-Amazon (LWA)
//! token endpoint:
//!
//! | endpoint | what it does |
//! |---|---|
//! | `POST /auth/o2/token` | LWA refresh-token grant (form or JSON body) → `Atza|…` access token of the token's selling partner |
//! | `POST /vendor/payments/v1/invoices` | submitInvoices: token check, rate limit of the partner, validation against the official model, 202 + transactionId |
//! | `GET /vendor/transactions/v1/transactions/{id}` | getTransaction: Processing for N polls, then Success or Failure |
//! | `POST /ordering/2022-10-30/orders` | placeOrder (operation `place_order`): token check, the partner's rate limit (0.5/s, burst 10), validation against the official model with its polymorphic types closed, outcome per line, 200 `PlaceOrderResult`; the same `externalId` again places nothing (below) |
//! | `GET /ordering/2022-10-30/orders/{externalId}` | orderDetails (operation `order_details`): token check, own rate limit (0.5/s, burst 10), `x-amz-user-email` header required (400 without), 200 `OrderDetailsResult` = the stored answer, 404 for an order this partner did not place |
//! | `GET /reconciliation/2021-01-08/transactions` | getTransactions (`get_transactions`): `feedStartDate` + `feedEndDate`, or `nextPageToken` alone; pages of [`Config::transactions_page_size`] (5) transactions by feed date, 200 `TransactionsResponse` (below) |
//! | `POST /reconciliation/2021-01-08/invoices` | getInvoiceDetailsByOrderLineItems (`get_invoice_details`): 1 to 25 `orderLineItems`, 200 `InvoiceDetailsByOrderLineItemsResponse` |
//! | `POST /reconciliation/2021-01-08/invoices/batch/paymentDetails` | getBatchInvoicePaymentDetails (`get_payment_details`): 1 to 25 `invoiceIds`, 200 `GetBatchInvoicePaymentDetailsResponse` (SUCCESS with status and due date, or ERROR) |
//! | `POST /reports/2021-09-30/reports` | createReport (`create_report`): `GET_AB_INVOICE_PDF` only, 202 `{"reportId"}` |
//! | `GET /reports/2021-09-30/reports/{reportId}` | getReport (`get_report`): `IN_QUEUE`, `IN_PROGRESS` for N polls, then `DONE` + `reportDocumentId` (or `FATAL` / `CANCELLED`); 404 for another partner's report |
//! | `DELETE /reports/2021-09-30/reports/{reportId}` | cancelReport (`cancel_report`): 200 while `IN_QUEUE`, else 400 |
//! | `GET /reports/2021-09-30/documents/{reportDocumentId}` | getReportDocument (`get_report_document`): 200 `{"reportDocumentId", "url", "compressionAlgorithm": "GZIP"?}`, a fresh URL valid [`Config::document_url_ttl`] (5 min) per call |
//! | `GET /report-documents/{reportDocumentId}?X-Amz-Algorithm=…&X-Amz-Date=…&X-Amz-Expires=…&X-Amz-SignedHeaders=host&X-Amz-Signature=…` | the document URL (`document_download`; no token, no rate limit, like a presigned S3 URL): the PDF (`application/pdf`), gzipped when GZIP (`application/octet-stream`, no `Content-Encoding`) |
//! | `/_emulator/…` | control API for tests (no auth, below) |
//!
//! The request body of submitInvoices is validated against a JSON Schema built from the official
//! Swagger 2.0 model (`models/vendorInvoices.json`, a byte copy of Amazon's file) with two rules the
//! model states only in prose or not at all, but that a real client must honour:
//! `Decimal` values are strings matching the pattern in the `Decimal` description, and
//! `invoices` is required at the top level (so a `{"payload":{…}}` wrapper is refused).
//!
//! ## Selling partners
//!
//! Amazon applies usage plans per application **and selling partner**, and each selling partner
//! that authorised the application has its own refresh token. The emulator does the same:
//!
//! - LWA accepts the configured [`Config::refresh_token`] (partner [`DEFAULT_PARTNER`],
//!   `"default"`) and **any** refresh token of the form `Atzr|<anything>` (non-empty); each
//!   distinct token is its own selling partner, with the id `sp-<first 16 hex digits of
//!   SHA-256(token)>` ([`Config::partner_of`]) — deterministic, and the token itself (a secret)
//!   never appears in recordings or stats.
//! - Access tokens remember their partner. Rate-limit buckets (429 `QuotaExceeded` with
//!   `x-amzn-RateLimit-Limit` and `x-amzn-RequestId`) are per (partner, operation): one
//!   partner's burst never throttles another.
//! - A revoked refresh token gets LWA's 400 `invalid_grant`, and its partner's outstanding
//!   access tokens get SP-API's 403 `{"errors":[{"code":"Unauthorized","message":"Access to
//!   requested resource is denied.","details":""}]}`.
//!
//! ## Amazon Business Ordering API
//!
//! placeOrder bodies are validated against `models/Ordering_API.json` (a byte copy of Amazon's
//! file) as [`model::ordering_schema`] builds it: every subtype of a discriminated base
//! (`Attribute` by `attributeType`, `Expectation` by `expectationType`, `Address` by
//! `addressType`, `ProductReference`, `GroupReference`, …) is validated against the subtype its
//! discriminator names, with `additionalProperties: false` — a misspelt field (`prductReference`)
//! is a 400, not ignored — and so is every other object type (`Money`, `Segment`, …). The
//! model leaves out subtypes the spec's sample uses; they are added: `ExpectedDeliveryDate`
//! (`requestedDeliveryDate`, date-time), `ProductIdentifier` (`id`), `BuyingOptionIdentifier`
//! (`id`), `GroupIdentity` (`identifier`), `UserEmail` (`emailAddress`), `StoredPaymentMethod`.
//! `Auxiliary` requires `values` (the model says `auxiliaryValues`, which it never defines).
//! The spec's sample request itself breaks the model (`"externalId": ""`, empty `postalCode` /
//! `phoneNumber`) and is refused as written. Errors: 400 `{"errors": [{"code": "InvalidInput",
//! "message": "<JSON pointer>: <problem>", "details": ""}, …]}`, one per violation. Refused
//! likewise, after the schema: a line item `externalId` that is not all ASCII digits (with
//! e-invoicing it is the PO line number; Amazon's e-invoicing guide requires it numeric), two
//! lines with one `externalId`, an order-level-only attribute on a line (`BillingAddress`,
//! `PurchaseOrderNumber`, `BuyingGroupReference`, …), a line without a
//! `SelectedProductReference` (at line or order level).
//!
//! Outcome of each line (`/_emulator/ordering` steers it; defaults accept everything):
//! - unit price: the catalogue price of the ASIN (`prices`), else the line's
//!   `ExpectedUnitPrice` (the order's when the line has none; cut to cents), else
//!   [`Config::order_default_unit_price`]. Above the `ExpectedUnitPrice`: the whole line is
//!   rejected with `BrokenUnitPriceExpectation` (`boundary` = the expectation, `actualAmount`).
//! - `reject_asins` / `reject_order`: rejected whole, `RejectionCode` + `RejectionMessage`
//!   (`reject_order` also at order level, and nothing is `Signed`). `partial`: at most that
//!   quantity accepted, the rest rejected with `UnavailableQuantity` + `RejectionCode`
//!   `QUANTITY_UNAVAILABLE` + `RejectionMessage`.
//! - accepted: `acceptedItemType` `SingleAcceptedItem` with `DeliveryTimeRange` (07:00Z
//!   [`Config::order_delivery_days`] days on, for 24 h, as date-time strings like the spec's
//!   sample), `UnitPrice`, `Charge` SUBTOTAL/PRINCIPAL (price × quantity), SHIPPING/PRINCIPAL
//!   ([`Config::order_shipping`] per accepted item), SHIPPING/TAX and SUBTOTAL/TAX
//!   ([`Config::order_tax_rate`] percent, half away from zero), `OrderIdentifier`
//!   (`113-1234567-1234567`). A charge above the line's (else the order's) `ExpectedCharge` of
//!   its source (SUBTOTAL; TAX = both taxes; SHIPPING) rejects the line with
//!   `BrokenChargeExpectation` (`boundary`, `actualAmount`, `sources`).
//! - `split_orders`: accepted lines alternate between two Amazon orders; a lone accepted line
//!   of quantity ≥ 2 becomes two accepted items (⌈q/2⌉ and ⌊q/2⌋), one per Amazon order.
//! - order level: `Signed` and the four charges summed, when anything was accepted.
//! - `TrialMode`: answered the same, without `Signed` and `OrderIdentifier`, and not stored.
//!
//! Money in answers is a JSON number written with exact decimal digits (`8.80`, `0.00`,
//! `2469135780246.90`), never through `f64`; request amounts are read by their digits.
//!
//! Idempotency: orders are kept per (selling partner, order `externalId`). The same body again
//! (compared as JSON) places nothing and answers the stored result byte for byte (200) — so a
//! client that lost an answer may simply retry; another body under a used `externalId` is a
//! 400 `InvalidInput` (`/externalId: … already placed with a different request`; the model has
//! no 409). orderDetails answers the same stored bytes. With `lose_response_next` (operation
//! `place_order`) the order is placed and stored but the connection closes unanswered.
//!
//! E-invoices: `POST /_emulator/ordering/orders/{externalId}/einvoice` makes the cXML
//! `InvoiceDetailRequest` Amazon Business sends for the order (the spec's Appendix 2; mapping
//! in the `einvoice` module): `OrderReference@orderID` = `PurchaseOrderNumber` (else the
//! order's `externalId`), `DocumentReference@payloadID` = the order's `externalId`,
//! `SupplierOrderInfo@orderID` = the Amazon order, `InvoiceDetailItemReference@lineNumber` =
//! the line's `externalId`, `Extrinsic`s from `Auxiliary`, `Distribution`/`Accounting`/
//! `AccountingSegment` (id, Name = type, Description) from the line's `Distribution`s, `From`
//! `NetworkID:AN01011737571`, `To` = the `BuyingGroupReference` (else `AN12345678901`), totals
//! consistent (project validator clean). With [`Config::s3_bucket`] it is also put at
//! `incoming/<company>/amazon-business/<invoice id>.xml` (`content-type: application/xml`, no
//! metadata: an S3 drop) with the AWS SDK: [`Config::s3_endpoint`] (path-style) else the SDK's
//! environment; region `us-east-1` when none is configured. The bucket must exist.
//!
//! ## Amazon Business Reconciliation and Document (Reports) APIs
//!
//! Models: `models/Reconciliation_API.json` (2021-01-08) and `models/Document_API_v1.json`
//! (2021-09-30), byte copies of Amazon's files. Every operation checks the access token like the
//! others (403 `Unauthorized` for a missing, unknown, expired or revoked one) and has its own
//! bucket per selling partner: getTransactions, getInvoiceDetailsByOrderLineItems and
//! getBatchInvoicePaymentDetails 2/s burst 10 (the model), createReport and getReportDocument
//! 0.0167/s burst 15 (Amazon Business's reference; the model states none), getReport 2/s burst 15
//! and cancelReport 0.0222/s burst 10 (not stated for Amazon Business: SP-API Reports' values),
//! all in [`Config`]. `x-amzn-RateLimit-Limit` is sent on the responses the models give it:
//! every response of getTransactions and getInvoiceDetailsByOrderLineItems, 200/400/404 of
//! getBatchInvoicePaymentDetails, everything but 403 of the Reports operations.
//!
//! Data comes from `POST /_emulator/business/seed`, per selling partner; one seeded invoice is one
//! `CHARGE` transaction (its `invoiceNumber`, every line), one `STANDARD` invoice detail, payment
//! details and a PDF; each credit memo is one `REFUND` (or `OVERREFUND`) transaction with negative
//! amounts, one `CREDIT_MEMO` invoice detail (`associatedInvoiceNumber`/`Date`, positive
//! amounts), payment details (default `Closed`) and a PDF.
//!
//! - getTransactions: `feedStartDate` ≤ `feedDate` ≤ `feedEndDate` (both inclusive; RFC 3339 with
//!   `Z` or an offset; else 400 `INVALID_REQUEST_PARAMETER` `Input date [x] is not in the
//!   expected ISO8601 format.`), in (feedDate, transactionId) order. `nextPageToken` is opaque, kept on the
//!   server, bound to the partner and window, and may be sent again (same page); sent with any
//!   other parameter, unknown or another partner's: 400. Unknown or repeated parameters: 400.
//!   Each page is rendered from compact records when asked (bounded memory for big seeds).
//! - getInvoiceDetailsByOrderLineItems: more than 25 items → 400 before the schema; then the body
//!   is validated against `InvoiceDetailsByOrderLineItemsRequest` with unknown fields refused
//!   (400 `INVALID_REQUEST_PARAMETER`, one error per violation); an empty list is a 400; a body
//!   that is not JSON is a 400 (the model has no 415). Each known (orderId, orderLineItemId,
//!   shipmentId) answers every document with that line (invoice first, then its credit memos);
//!   unknown ones are left out (as the sandbox does); an invoice seeded `available: false` answers
//!   its line with `invoiceDetails: []`.
//! - getBatchInvoicePaymentDetails: validated against `GetBatchInvoicePaymentDetailsRequest`
//!   (1 to 25 ids of 1 to 255 characters; 415 unless JSON). Per id: `SUCCESS` +
//!   `paymentDetails {status, dueDate}` (default `Issued`, 30 days after the invoice date at
//!   23:59:59Z), the seeded `ERROR`, or `ERROR` `INVOICE_NOT_FOUND` for an id with no payment
//!   details.
//! - Money: `Money` amounts, `invoiceTotal` and rates are strings, in the seeded invoice's
//!   `money_format`: `"0.00"` (`"1751.00"`, the default), `"0.0"` (`"1751.0"`, `"12.5"`), `"0"`
//!   (`"908"`, `"12.5"`) or `"mixed"` (the three in turn, amount after amount). Tax rates are
//!   fractions (`"0.2"` for 20 %), discounts negative. Line amounts: principal = unit price ×
//!   quantity; tax = rate × (principal + discount) + rate × shipping (each rounded half away from
//!   zero to the currency's minor unit); total = principal + shipping + discount + tax;
//!   `Transaction.amount` and `invoiceTotal` = the lines' totals. `sandbox_quirks: true` writes
//!   the sandbox's breaches of the model: unit prices `{"currencyCode": "", "amount": "0"}`, no
//!   item or fee `discount`, no `registrationNumber`, `purchaseOrderNumber: ""`.
//! - createReport: validated against `CreateReportSpecification` (unknown fields refused); any
//!   `reportType` but `GET_AB_INVOICE_PDF` is a 400; its `reportOptions` (required) are
//!   `{"invoiceId": "…", "documentType": "Invoice" | "Credits"}` (`documentType` optional) or
//!   `{"orderId", "orderLineItemId", "shipmentId"}` (all three; the line's invoice, its credit
//!   memo with `"documentType": "Credits"`), as Amazon Business's createReport reference shows;
//!   other keys are a 400. Data times in the future are a 400. Reports errors are
//!   `{"errors": [{"code": "400", "message": "Invalid input", "details": "…"}]}` (the sandbox's).
//! - getReport: each call is a poll; the first answers `IN_QUEUE`, the next ones `IN_PROGRESS`,
//!   up to `report_polls` ([`Config::report_processing_polls`], 2) answers; then the final
//!   status, fixed at createReport: `FATAL` / `CANCELLED` when `report_fatal_next` /
//!   `report_cancelled_next` was armed, else `CANCELLED` when nothing matched the options (Amazon
//!   cancels a report without data), else the invoice's `report_outcome`, else `DONE` with a
//!   `reportDocumentId` (`amzn1.tortuga.4.eu.<uuid>`, `na` for USD/CAD). `processingStartTime`
//!   from the first `IN_PROGRESS`, `processingEndTime` at the end. No document for FATAL.
//! - The document URL is signed with a per-instance secret over (document, `X-Amz-Date`,
//!   `X-Amz-Expires`). After `X-Amz-Date` + `X-Amz-Expires` it answers 403 `application/xml`
//!   `<Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>300</X-Amz-Expires><Expires>…</Expires><ServerTime>…</ServerTime><RequestId>…</RequestId><HostId>…</HostId></Error>`;
//!   a changed query 403 `SignatureDoesNotMatch`; missing parameters 403 `AccessDenied`; a
//!   document no longer there 404 `NoSuchKey`. Faults: `fail_next` → 5xx `InternalError`,
//!   `throttle_next` → 503 `SlowDown` (S3's XML), `drop_next` / `stall_next` as elsewhere. The
//!   PDF is the seeded `pdf_base64`, else a one-page PDF naming the document (`Amazon Business -
//!   Invoice <number>`, date, order, total), made when downloaded. Gzipped when the document is
//!   GZIP: the invoice's `gzip`, else [`Config::document_gzip`].
//!
//! ## Control API
//!
//! | endpoint | what it does |
//! |---|---|
//! | `POST /_emulator/faults` | arm faults (every field optional, unknown fields refused): `fail_next` (+ `fail_status` 5xx), `throttle_next`, `drop_next`, `lose_response_next`, `stall_next`, `delay_ms`, `processing_polls`, `invalid_invoice_ids` / `reject_invoice_ids` (id → errors), `lwa_fail_next`, `operation` (`"submit"` / `"get_transaction"` / `"place_order"` / `"order_details"` / `"get_transactions"` / `"get_invoice_details"` / `"get_payment_details"` / `"create_report"` / `"get_report"` / `"cancel_report"` / `"get_report_document"` / `"document_download"` / null) scoping the first five; for the Amazon Business documents: `report_polls` (IN_QUEUE/IN_PROGRESS answers of reports created from now on), `report_fatal_next` / `report_cancelled_next` (the next reports created end FATAL / CANCELLED), `expired_url_next` (the next getReportDocument URLs are expired when issued): `{"report_polls": 0, "report_fatal_next": 1, "report_cancelled_next": 0, "expired_url_next": 1}`; `GET` shows them |
//! | `POST /_emulator/business/seed` | Amazon Business data of one selling partner (below) → `{"partner": "<id>", "added": {"invoices": n, "credit_memos": n}, "totals": {"invoices", "credit_memos", "transactions", "order_line_items", "seeded_pdfs"}}`; 400 `{"error"}` for a bad document (nothing stored), e.g. an invoice number the partner already has; `GET` → `{"partners": {"<id>": {"invoices", "credit_memos", "transactions", "order_line_items", "seeded_pdfs", "reports", "report_documents"}}, "page_tokens": n}` |
//! | `POST /_emulator/ordering` | how orders are answered (every field optional and replacing the current value, unknown fields refused, each order takes the settings at its placement): `{"reject_asins": {"<ASIN>": {"code": "ITEM_UNAVAILABLE", "message": "…"}}, "partial": {"<ASIN>": accepted_qty}, "prices": {"<ASIN>": "12.50"}, "split_orders": true, "tax_rate": "8", "shipping": "6.99", "delivery_days": 2, "reject_order": {"code": "…", "message": "…"}}` (`code`/`message` optional; amounts as strings or numbers ≥ 0; `null` resets `tax_rate`, `shipping`, `delivery_days`, `reject_order` to the configuration; `{}` empties a map) → the settings; `GET` shows them |
//! | `GET /_emulator/ordering/orders` | every stored order: `[{"partner", "external_id", "placed_at", "amazon_order_ids": […], "po_number", "lines": [{"external_id", "asin", "quantity", "unit_price", "amazon_order_id"}]}]` (accepted items only) |
//! | `POST /_emulator/ordering/orders/{externalId}/einvoice` | `{"company": "acme", "variant": "exact" \| "higher-price" \| "extra-quantity" \| "unknown-line", "invoice_id": "…", "to_identity": "NetworkID:AN…" \| "AN…", "partner": "<id>", "amazon_order_id": "113-…"}` (only `company` required; `variant` default `exact`; `invoice_id` default 12 random `[0-9A-Z]`; `partner` needed only when several partners placed the `externalId`, `amazon_order_id` only when the order was split) → 200 `{"invoice_id", "external_id", "partner", "amazon_order_id", "variant", "to", "key", "bucket", "stored", "xml"}`; 404 no such order, 400 bad document or ambiguity, 502 (with `error`) when the S3 put fails. Variants: `higher-price` the first item's unit price +10 % (at least a cent), `extra-quantity` its quantity +1, `unknown-line` one more item on line number (largest PO line number + 1); each is internally consistent (amounts recomputed) |
//! | `POST /_emulator/revoke` | `{"refresh_token": "Atzr|…", "revoked": true}` (`revoked` optional, default true) → `{"partner": "<id>", "revoked": true}`: revokes the selling partner's authorisation (LWA `invalid_grant`, its access tokens 403); `"revoked": false` lets LWA issue tokens again (tokens issued before stay dead). 400 for a token that is no partner's |
//! | `GET /_emulator/requests` | every request in arrival order: `seq`, `request_id`, `operation` (`submit` / `get_transaction` / `place_order` / `order_details` / `get_transactions` / `get_invoice_details` / `get_payment_details` / `create_report` / `get_report` / `cancel_report` / `get_report_document` / `document_download` / `token`), `partner` (null when the token is unknown; for a download the document's), `method`, `path` (with the query string for getTransactions), `status` (null: dropped/stalled/in flight), `fault`, `at`, `invoice_ids` (also getBatchInvoicePaymentDetails' `invoiceIds`, createReport's `invoiceId`), `external_id` (the order's, for placeOrder and orderDetails), `body` (never a secret or a token) |
//! | `GET /_emulator/stats` | `{"submit": {status: n}, "get_transaction": {…}, "place_order": {…}, "order_details": {…}, "get_transactions": {…}, "get_invoice_details": {…}, "get_payment_details": {…}, "create_report": {…}, "get_report": {…}, "cancel_report": {…}, "get_report_document": {…}, "document_download": {…}, "token": n, "token_status": {…}, "partners": {"<id>": {the same groups but "token"}}}` (`"dropped"` / `"stalled"` for answers never sent) |
//! | `POST /_emulator/reset` | faults, recordings, stats, transactions, orders, ordering settings, Amazon Business seeds, page tokens, reports and report documents, rate buckets and revocations back to the start; issued access tokens stay valid (revoked ones stay dead) |
//!
//!
//! ### The seed document (`POST /_emulator/business/seed`)
//!
//! Unknown fields are refused everywhere; dates are RFC 3339 date-times or dates (`2026-11-01`:
//! midnight UTC); amounts are JSON numbers or strings. Only the fields without a default are
//! required (`invoice_number`, `invoice_date`, `lines`, each line's `unit_price`; a memo's
//! `invoice_number` and `invoice_date`; a generate's `count` and `from`):
//!
//! ```json
//! {
//!   "refresh_token": "Atzr|…",            // or "partner": "<id>"; neither: the default partner
//!   "replace": false,                     // true: this partner's invoices are dropped first
//!   "invoices": [{
//!     "invoice_number": "FR5000000001", "invoice_date": "2026-11-02T10:00:00Z",
//!     "feed_date": "2026-11-03T04:00:00Z",         // default: invoice_date + 1 day
//!     "transaction_date": "…",                      // default: invoice_date
//!     "transaction_id": "…", "charge_identifier": "…",
//!     "order_id": "402-1111111-2222222",           // default: derived from the number
//!     "order_date": "…",                            // default: invoice_date − 1 day
//!     "currency": "EUR", "marketplace_id": "A13V1IB3VIYZZH",  // default: the currency's store
//!     "money_format": "0.00",                       // "0.00" | "0.0" | "0" | "mixed"
//!     "legal_entity_name": "Acme SAS", "purchasing_customer_group_name": "Finance",
//!     "buyer": {"id": "amzn1.account.…", "name": "…", "email": "…"}, "payer": {…},  // payer default: buyer
//!     "payment_instrument_type": "PayByInvoice", "payment_instrument_last4_digits": "1234",
//!     "issuer_name": "Amazon Business EU S.à r.l.", "issuer_registration_number": "FR…",
//!     "consolidated_invoice_number": "Pending", "bill_to": {…PhysicalAddress, as written…},
//!     "available": true,                            // false: invoice details not there yet
//!     "lines": [{
//!       "order_line_item_id": "OLI-1", "shipment_id": "SHIP-1", "shipment_date": "…",  // defaults derived
//!       "asin": "B000000001", "title": "Paper", "quantity": 2, "unit_price": "10.00",
//!       "tax_rate": "20", "shipping": "4.99", "discount": "1.00",   // percent; discount shown negative
//!       "unspsc": "14111500", "merchant_legal_name": "…", "purchase_order_number": "PO-1",
//!       "purchase_order_line_item_id": "1", "budget_id": "…",
//!       "business_order_info": {"GL code": "6064", "Cost center": "CC-42"}
//!     }],
//!     "payment": {"status": "Past Due", "due_date": "2026-12-02T23:59:59Z"},
//!                // or {"error": {"code": "…", "message": "…"}}, or null (ERROR INVOICE_NOT_FOUND)
//!     "pdf_base64": "JVBERi0…",                     // default: a generated PDF
//!     "gzip": true,                                 // default: Config::document_gzip
//!     "report_outcome": "DONE",                     // "DONE" | "FATAL" | "CANCELLED"
//!     "sandbox_quirks": false,
//!     "split_payments": 1,                          // 1 to 5 transactions for the invoice (below)
//!     "credit_memos": [{
//!       "invoice_number": "FR5000000001C", "invoice_date": "2026-11-10T09:00:00Z",
//!       "feed_date": "…", "transaction_id": "…", "transaction_type": "REFUND",  // or "OVERREFUND"
//!       "refund_reason": "Damaged",
//!       "lines": [{"order_line_item_id": "OLI-1", "quantity": 1}],  // default: every line, whole
//!       "payment": {…}, "money_format": "…", "pdf_base64": "…", "gzip": false,
//!       "report_outcome": "…", "available": true
//!     }]
//!   }],
//!   "generate": {"count": 5000, "from": "2026-11-01", "days": 30, "prefix": "GEN", "currency": "EUR",
//!                "lines": 2, "money_format": "mixed", "credit_memo_every": 50, "tax_rate": "20",
//!                "feed_lag_hours": 24}
//! }
//! ```
//!
//! A credit memo line that refunds part of the quantity refunds the items only (no shipping, no
//! discount). `split_payments: n` pays the invoice with n transactions, `<transaction_id>`,
//! `<transaction_id>-2`, …: each carries the invoice number and every line, an equal share of
//! the amount in the currency's minor unit (the first takes the remainder), the others in
//! `associatedTransactionDetails`, and the payment instruments `GiftCard`, `CreditCard`,
//! `RewardsPoints`, `BankAccount` after the first (an importer must not count the invoice twice). `generate` makes `count` (≤ 100,000) deterministic invoices `<prefix><0000001…>`,
//! invoice dates spread evenly over `days` (1) from `from`, feed dates `feed_lag_hours` (24)
//! later, `lines` (2, ≤ 10) lines each with varying prices, quantities, shipping and discounts,
//! `businessOrderInfo` `GL code` / `Cost center`, payment status `Issued`, `Payment Processing`,
//! `Past Due`, `Closed` in turn, money formats `"0.00"`, `"0.0"`, `"0"`, `"mixed"` in turn unless
//! `money_format` is given, generated PDFs, and with `credit_memo_every: n` a full credit memo
//! `<prefix>C<number>` for every n-th invoice (3 days later). 5,000 invoices seed in well under a
//! second and are kept as compact records.
//!
//! Run it with [`serve`] on a bound [`tokio::net::TcpListener`]; the binary (`src/main.rs`) only
//! parses flags and calls it. `serve` owns the HTTP connections (instead of `axum::serve`) so that
//! the `drop_next` fault can close a connection without sending any response.

use std::time::Duration;

use axum::http::HeaderName;

mod api;
mod bucket;
mod business;
mod control;
mod einvoice;
mod ids;
mod lwa;
pub mod model;
mod ordering;
mod reports;
mod serve;
mod state;

pub use serve::serve;
pub use state::{ApiError, App, Operation};

/// Amazon's vendorInvoices.json (Swagger 2.0), unchanged.
pub const VENDOR_INVOICES_MODEL: &str = include_str!("../models/vendorInvoices.json");
/// Amazon's vendorTransactionStatus.json (Swagger 2.0), unchanged.
pub const VENDOR_TRANSACTION_STATUS_MODEL: &str = include_str!("../models/vendorTransactionStatus.json");
/// Amazon Business's Ordering_API.json (Swagger 2.0), unchanged.
pub const ORDERING_MODEL: &str = include_str!("../models/Ordering_API.json");
/// Amazon Business's Reconciliation_API.json (Swagger 2.0, version 2021-01-08), unchanged.
pub const RECONCILIATION_MODEL: &str = include_str!("../models/Reconciliation_API.json");
/// Amazon Business's Document_API_v1.json (the Reports API, Swagger 2.0, version 2021-09-30), unchanged.
pub const DOCUMENT_MODEL: &str = include_str!("../models/Document_API_v1.json");

pub const DEFAULT_CLIENT_ID: &str = "local-client-id";
pub const DEFAULT_CLIENT_SECRET: &str = "local-client-secret";
pub const DEFAULT_REFRESH_TOKEN: &str = "Atzr|local-refresh-token";
/// The selling partner of [`Config::refresh_token`].
pub const DEFAULT_PARTNER: &str = "default";
/// LWA refresh tokens start with this; the emulator accepts any `Atzr|<anything>`.
pub const REFRESH_TOKEN_PREFIX: &str = "Atzr|";

pub const SUBMIT_INVOICES_PATH: &str = "/vendor/payments/v1/invoices";
pub const GET_TRANSACTION_PREFIX: &str = "/vendor/transactions/v1/transactions/";
pub const LWA_TOKEN_PATH: &str = "/auth/o2/token";
/// placeOrder (POST) and, with `/{externalId}`, orderDetails (GET).
pub const ORDERS_PATH: &str = "/ordering/2022-10-30/orders";
/// getTransactions (GET).
pub const TRANSACTIONS_PATH: &str = "/reconciliation/2021-01-08/transactions";
/// getInvoiceDetailsByOrderLineItems (POST).
pub const INVOICES_PATH: &str = "/reconciliation/2021-01-08/invoices";
/// getBatchInvoicePaymentDetails (POST).
pub const PAYMENT_DETAILS_PATH: &str = "/reconciliation/2021-01-08/invoices/batch/paymentDetails";
/// createReport (POST) and, with `/{reportId}`, getReport (GET) and cancelReport (DELETE).
pub const REPORTS_PATH: &str = "/reports/2021-09-30/reports";
/// getReportDocument: `GET` this + `{reportDocumentId}`.
pub const DOCUMENTS_PREFIX: &str = "/reports/2021-09-30/documents/";
/// Report document URLs: this + `{reportDocumentId}?X-Amz-…` (no token: presigned-like).
pub const DOCUMENT_URL_PREFIX: &str = "/report-documents/";
/// Where [`Config::s3_bucket`] receives the e-invoices: `incoming/<company>/amazon-business/<invoice id>.xml`.
pub const EINVOICE_KEY_PREFIX: &str = "incoming/";

const HDR_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const HDR_RATE_LIMIT: HeaderName = HeaderName::from_static("x-amzn-ratelimit-limit");
const HDR_ACCESS_TOKEN: &str = "x-amz-access-token";

/// Settings of one emulator instance. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct Config {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// Lifetime of issued access tokens, seconds (`expires_in`).
    pub token_expires_in: u64,
    /// getTransaction answers `Processing` this many times before the final status.
    pub processing_polls: u32,
    pub submit_rate: f64,
    pub submit_burst: f64,
    pub get_transaction_rate: f64,
    pub get_transaction_burst: f64,
    /// Larger request bodies get 413.
    pub max_body_bytes: usize,
    /// How long a `stall_next` request hangs before its connection is closed.
    pub stall: Duration,
    /// placeOrder's usage plan (Amazon: 0.5 requests/s, burst 10), per selling partner.
    pub place_order_rate: f64,
    pub place_order_burst: f64,
    /// orderDetails's usage plan (Amazon: 0.5 requests/s, burst 10), per selling partner.
    pub order_details_rate: f64,
    pub order_details_burst: f64,
    /// Sales tax of accepted items, percent of the subtotal and of the shipping (`"8"`);
    /// `POST /_emulator/ordering` `tax_rate` overrides it. A decimal number ≥ 0.
    pub order_tax_rate: String,
    /// Shipping charged per accepted item (portion of a line), `"0.00"` by default;
    /// `POST /_emulator/ordering` `shipping` overrides it.
    pub order_shipping: String,
    /// Unit price of an item that has neither an `ExpectedUnitPrice` nor a catalogue price
    /// (`POST /_emulator/ordering` `prices`).
    pub order_default_unit_price: String,
    /// The delivery window starts this many days after the order (07:00Z, for 24 hours).
    pub order_delivery_days: u32,
    /// When set, e-invoices generated by `POST /_emulator/ordering/orders/{externalId}/einvoice`
    /// are also put into this bucket at `incoming/<company>/amazon-business/<invoice id>.xml`.
    pub s3_bucket: Option<String>,
    /// The S3 endpoint (a local server: path-style addressing). `None`: the AWS SDK's own
    /// configuration (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, else AWS).
    pub s3_endpoint: Option<String>,
    /// getTransactions' usage plan (the model: 2 requests/s, burst 10), per selling partner.
    pub get_transactions_rate: f64,
    pub get_transactions_burst: f64,
    /// getInvoiceDetailsByOrderLineItems' usage plan (the model: 2/s, burst 10).
    pub invoice_details_rate: f64,
    pub invoice_details_burst: f64,
    /// getBatchInvoicePaymentDetails' usage plan (the model: 2/s, burst 10).
    pub payment_details_rate: f64,
    pub payment_details_burst: f64,
    /// Transactions per getTransactions page (small, so that clients walk pages).
    pub transactions_page_size: usize,
    /// createReport's usage plan (Amazon Business's reference: 0.0167/s, burst 15; the model
    /// states none).
    pub create_report_rate: f64,
    pub create_report_burst: f64,
    /// getReport's usage plan (not stated for Amazon Business; SP-API Reports' 2/s, burst 15).
    pub get_report_rate: f64,
    pub get_report_burst: f64,
    /// cancelReport's usage plan (not stated; SP-API Reports' 0.0222/s, burst 10).
    pub cancel_report_rate: f64,
    pub cancel_report_burst: f64,
    /// getReportDocument's usage plan (Amazon Business's reference: 0.0167/s, burst 15).
    pub get_report_document_rate: f64,
    pub get_report_document_burst: f64,
    /// getReport answers IN_QUEUE (first), then IN_PROGRESS, this many times before the final
    /// status; `POST /_emulator/faults` `report_polls` overrides it.
    pub report_processing_polls: u32,
    /// How long a report document URL is valid (the model: 5 minutes); whole seconds, ≥ 1.
    pub document_url_ttl: Duration,
    /// Report documents are GZIP (`compressionAlgorithm`) unless their seed says otherwise.
    pub document_gzip: bool,
    /// Base of report document URLs (`http://host:port`); `None`: the `Host` the request came to.
    pub document_base_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            refresh_token: DEFAULT_REFRESH_TOKEN.into(),
            token_expires_in: 3600,
            processing_polls: 1,
            submit_rate: 10.0,
            submit_burst: 10.0,
            get_transaction_rate: 10.0,
            get_transaction_burst: 20.0,
            max_body_bytes: 16 * 1024 * 1024,
            stall: Duration::from_secs(600),
            place_order_rate: 0.5,
            place_order_burst: 10.0,
            order_details_rate: 0.5,
            order_details_burst: 10.0,
            order_tax_rate: "8".into(),
            order_shipping: "0.00".into(),
            order_default_unit_price: "10.00".into(),
            order_delivery_days: 2,
            s3_bucket: None,
            s3_endpoint: None,
            get_transactions_rate: 2.0,
            get_transactions_burst: 10.0,
            invoice_details_rate: 2.0,
            invoice_details_burst: 10.0,
            payment_details_rate: 2.0,
            payment_details_burst: 10.0,
            transactions_page_size: 5,
            create_report_rate: 0.0167,
            create_report_burst: 15.0,
            get_report_rate: 2.0,
            get_report_burst: 15.0,
            cancel_report_rate: 0.0222,
            cancel_report_burst: 10.0,
            get_report_document_rate: 0.0167,
            get_report_document_burst: 15.0,
            report_processing_polls: 2,
            document_url_ttl: Duration::from_secs(300),
            document_gzip: false,
            document_base_url: None,
        }
    }
}

impl Config {
    /// The selling partner a refresh token stands for: [`DEFAULT_PARTNER`] for the configured
    /// token, `sp-<16 hex digits of SHA-256(token)>` for any other `Atzr|<anything>`, `None`
    /// for anything else (LWA answers `invalid_grant`).
    pub fn partner_of(&self, refresh_token: &str) -> Option<String> {
        use sha2::Digest;
        if refresh_token == self.refresh_token {
            return Some(DEFAULT_PARTNER.to_owned());
        }
        let rest = refresh_token.strip_prefix(REFRESH_TOKEN_PREFIX)?;
        if rest.is_empty() {
            return None;
        }
        let digest = sha2::Sha256::digest(refresh_token.as_bytes());
        Some(format!("sp-{}", &hex::encode(digest)[..16]))
    }

    /// Rate (requests/s) and burst of an operation's usage plan.
    pub(crate) fn plan(&self, op: Operation) -> (f64, f64) {
        match op {
            Operation::GetTransaction => (self.get_transaction_rate, self.get_transaction_burst),
            Operation::PlaceOrder => (self.place_order_rate, self.place_order_burst),
            Operation::OrderDetails => (self.order_details_rate, self.order_details_burst),
            Operation::GetTransactions => (self.get_transactions_rate, self.get_transactions_burst),
            Operation::GetInvoiceDetails => (self.invoice_details_rate, self.invoice_details_burst),
            Operation::GetPaymentDetails => (self.payment_details_rate, self.payment_details_burst),
            Operation::CreateReport => (self.create_report_rate, self.create_report_burst),
            Operation::GetReport => (self.get_report_rate, self.get_report_burst),
            Operation::CancelReport => (self.cancel_report_rate, self.cancel_report_burst),
            Operation::GetReportDocument => (self.get_report_document_rate, self.get_report_document_burst),
            // Downloads are not rate limited; the plan is never used for them.
            Operation::Submit | Operation::Token | Operation::DocumentDownload => (self.submit_rate, self.submit_burst),
        }
    }
}

/// Why [`App::new`] would refuse `config` (a decimal setting that is not a decimal ≥ 0).
pub fn check_config(config: &Config) -> Result<(), String> {
    if config.transactions_page_size == 0 {
        return Err("transactions_page_size must be at least 1".into());
    }
    if config.document_url_ttl.as_secs() == 0 {
        return Err("document_url_ttl must be at least one second".into());
    }
    ordering::Plan::from_config(config).map(|_| ())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::Value;

    use super::bucket::Bucket;
    use super::*;

    #[test]
    fn decimal_pattern_comes_from_the_model() {
        let m: Value = serde_json::from_str(VENDOR_INVOICES_MODEL).unwrap();
        assert_eq!(model::decimal_pattern(&m).unwrap(), r"^-?(0|([1-9]\d*))(\.\d+)?([eE][+-]?\d+)?$");
        let schema = model::submit_invoices_schema();
        assert_eq!(schema["definitions"]["Decimal"]["pattern"], r"^-?(0|([1-9][0-9]*))(\.[0-9]+)?([eE][+-]?[0-9]+)?$");
        assert!(!schema.to_string().contains("x-docgen"));
        // enum values and property names survive the clean-up
        assert_eq!(schema["definitions"]["TaxDetails"]["properties"]["taxType"]["enum"][5], "MwSt.");
    }

    #[test]
    fn ordering_schema_closes_every_polymorphic_type() {
        let m: Value = serde_json::from_str(ORDERING_MODEL).unwrap();
        let schema = model::ordering_schema("PlaceOrderRequest", false);
        let defs = schema["definitions"].as_object().unwrap();
        let bases: Vec<(&String, &str)> = m["definitions"]
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(name, d)| d.get("discriminator").and_then(Value::as_str).map(|disc| (name, disc)))
            .collect();
        assert_eq!(bases.len(), 13, "{bases:?}");
        for (base, disc) in bases {
            let names = defs[base]["properties"][disc]["enum"].as_array().unwrap_or_else(|| panic!("{base} dispatches"));
            assert!(!names.is_empty(), "{base} has subtypes");
            for n in names {
                let sub = &defs[n.as_str().unwrap()];
                assert_eq!(sub["additionalProperties"], false, "{n} closed");
                assert_eq!(sub["properties"][disc]["enum"], serde_json::json!([n]), "{n} names itself");
            }
        }
        let names = |base: &str, disc: &str| defs[base]["properties"][disc]["enum"].clone();
        assert!(names("Expectation", "expectationType").as_array().unwrap().contains(&"ExpectedDeliveryDate".into()));
        assert_eq!(names("PaymentMethodReference", "paymentMethodReferenceType"), serde_json::json!(["StoredPaymentMethod"]));
        assert_eq!(defs["Auxiliary"]["required"], serde_json::json!(["attributeType", "values"]));
        assert_eq!(defs["Money"]["additionalProperties"], false, "plain object types closed too");
        // The model file is Amazon's, unchanged.
        assert!(ORDERING_MODEL.contains(r#""auxiliaryValues""#));
    }

    #[test]
    fn partners_derive_from_refresh_tokens() {
        let c = Config::default();
        assert_eq!(c.partner_of(DEFAULT_REFRESH_TOKEN).as_deref(), Some(DEFAULT_PARTNER));
        let a = c.partner_of("Atzr|company-a").unwrap();
        assert_eq!(c.partner_of("Atzr|company-a").unwrap(), a, "deterministic");
        assert_ne!(c.partner_of("Atzr|company-b").unwrap(), a);
        assert!(a.starts_with("sp-") && a.len() == 19 && !a.contains("company"), "{a}");
        assert_eq!(c.partner_of("Atzr|"), None);
        assert_eq!(c.partner_of("not-a-refresh-token"), None);
        assert_eq!(c.partner_of(""), None);
        // A configured default that does not look like a refresh token is still accepted.
        let odd = Config { refresh_token: "secret".into(), ..Config::default() };
        assert_eq!(odd.partner_of("secret").as_deref(), Some(DEFAULT_PARTNER));
    }

    #[test]
    fn bucket_paced_at_rate_never_runs_dry() {
        let mut b = Bucket::new(10.0, 10.0);
        let t0 = Instant::now();
        for i in 0..10 {
            assert!(b.try_take(t0), "burst {i}");
        }
        assert!(!b.try_take(t0));
        for i in 1..=300u64 {
            assert!(b.try_take(t0 + Duration::from_millis(i * 100)), "paced request {i}");
        }
    }

    #[test]
    fn ids_are_unique_version_4_uuids() {
        let set: std::collections::HashSet<String> = (0..10_000).map(|_| ids::uuid()).collect();
        assert_eq!(set.len(), 10_000);
        for id in set.iter().take(100) {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!((id.len(), &id[14..15]), (36, "4"), "{id}");
        }
    }
}
