"""Operations domain in plain Python: ledger, manifests, reconciliation, incidents, evidence."""
