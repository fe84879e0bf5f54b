provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Application = "roster"
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}
