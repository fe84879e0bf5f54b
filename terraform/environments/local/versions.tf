terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The 5.100 of the offline provider mirror the tests use, or any 6.x.
      version = ">= 5.100.0, < 7.0.0"
    }
  }

  # State stays in terraform.tfstate next to this file: the emulator's data is
  # thrown away with it (moto keeps everything in memory), so there is nothing to share.
}
