"""S3 media: object keys and the operations the services need."""
