// The rule engine lands here (issue 5).
