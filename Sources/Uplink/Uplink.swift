// The uplinks land here (issue 4).
