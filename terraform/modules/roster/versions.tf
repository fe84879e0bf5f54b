terraform {
  # 1.9 for validation blocks that may refer to other variables; 1.10+ is needed
  # by the environments' S3 backend lock file, not by this module.
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 (what the local emulator runs are tested with) through the 6.x line.
      version = ">= 5.100.0, < 7.0.0"
    }
  }
}
