terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    helm = {
      source = "hashicorp/helm"
      # 3.x: `kubernetes` and `set` are attributes, no longer blocks.
      version = "~> 3.1"
    }
  }
}
