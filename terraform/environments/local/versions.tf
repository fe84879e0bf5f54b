terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25"
    }
  }

  # State stays in terraform.tfstate next to this file: the emulator's data is
  # thrown away with it (moto keeps everything in memory), so there is nothing to share.
}
