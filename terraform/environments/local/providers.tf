# Every call goes to the local emulator: moto (`moto_server`, or the minikube
# overlay's moto service through `kubectl port-forward`) or LocalStack, which
# speak the same APIs on one endpoint.
provider "aws" {
  region = var.region

  # moto and LocalStack accept any credentials unless told to enforce IAM; the
  # defaults are their documented dummy values, not a secret.
  access_key = var.access_key
  secret_key = var.secret_key

  # Path-style URLs (http://host:port/bucket/key): an emulator on 127.0.0.1 has
  # no per-bucket host names.
  s3_use_path_style = true

  # No real STS, EC2 metadata or account behind the emulator.
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true

  endpoints {
    dynamodb = var.endpoint
    s3       = var.endpoint
    iam      = var.endpoint
    sts      = var.endpoint
  }

  default_tags {
    tags = {
      Application = "roster"
      Environment = "local"
      ManagedBy   = "terraform"
    }
  }
}
