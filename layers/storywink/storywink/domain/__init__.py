"""Pure domain: enums, rules, errors and schemas. Imports nothing else of ours."""
