"""Bank statements (银行流水, SPEC §11): reading them, matching receipts to customers and
invoices, applying certain receipts as payments and keeping the review queue."""
