terraform {
  # 1.10+ for the S3 backend's native lock file (see backend.tf.example).
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The 6.x line: the pinned terraform-aws-modules releases need it (eks 21.11 wants
      # >= 6.23). The Helm provider's constraint is in modules/eks-controllers.
      version = "~> 6.25"
    }
  }

  # Remote state: copy backend.tf.example to backend.tf, fill it in, then
  # `terraform init -migrate-state`. Without it the state stays in a local file.
}
