# roster on a local AWS emulator, for the minikube flow and for running roster on
# this machine. Same module as on AWS; only what an emulator cannot do is off.

# There is no EKS here, so no IAM OIDC provider to trust. One is registered in the
# emulator for the cluster's service-account issuer, so the module builds the very
# same IRSA trust (sub = system:serviceaccount:<namespace>:<sa>, aud = sts.amazonaws.com)
# as on EKS and it can be inspected. Nothing assumes the role locally: roster talks to
# the emulator with the dummy credentials, and emulators do not enforce IAM by default.
resource "aws_iam_openid_connect_provider" "cluster" {
  url            = var.oidc_issuer_url
  client_id_list = ["sts.amazonaws.com"]
}

module "roster" {
  source = "../../modules/roster"

  table_name  = var.table_name
  bucket_name = var.bucket_name

  # Scratch data: let `terraform destroy` remove the table and a bucket with objects.
  deletion_protection  = var.deletion_protection
  force_destroy_bucket = true

  # Browsers fetch avatars from the emulator itself (path-style URLs); there is no
  # CloudFront in moto's or LocalStack's free edition worth pointing a browser at.
  enable_cloudfront = false

  # Point-in-time recovery, SSE, versioning, lifecycle, public access block and the
  # TLS-only bucket policy stay on: moto and LocalStack accept them (they do not
  # enforce the policy, which is why roster can still use http:// here).

  oidc_provider_arn = aws_iam_openid_connect_provider.cluster.arn
  namespace         = var.namespace
  service_account   = var.service_account

  tags = {
    Environment = "local"
  }
}

locals {
  endpoint            = trimsuffix(var.endpoint, "/")
  roster_endpoint_url = var.roster_endpoint_url == null ? local.endpoint : trimsuffix(var.roster_endpoint_url, "/")
  avatar_base_url     = var.avatar_base_url == null ? "${local.endpoint}/${module.roster.bucket_name}" : var.avatar_base_url
}
