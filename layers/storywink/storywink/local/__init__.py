"""The no-Docker local stack, built from template.yaml."""
