"""S3 for the platform: settings from the environment, a boto3 client factory, raw landing, export checks, and a
moto S3 API server on 127.0.0.1 that stands in for AWS locally (the code talks to it exactly as to AWS)."""
