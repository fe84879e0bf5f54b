# roster on a local AWS emulator, for the minikube flow and for running roster on
# this machine. Same module as on AWS; only what an emulator cannot do is off.

# There is no EKS here, so no IAM OIDC provider to trust. One is registered in the
# emulator for the cluster's service-account issuer, so the module builds the very
# same IRSA trust (sub = system:serviceaccount:<namespace>:<sa>, aud = sts.amazonaws.com)
# as on EKS and it can be inspected. Nothing assumes the role locally.
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

  # roster reaches the emulator over http://, and moto 5.2.5 evaluates bucket policies:
  # the TLS-only deny would refuse every object request (moto even ignores the
  # aws:SecureTransport condition and denies https:// too). On AWS it stays on.
  enforce_tls = false

  # Point-in-time recovery, SSE, versioning, lifecycle and the public access block stay
  # on: the emulators accept them.

  oidc_provider_arn = aws_iam_openid_connect_provider.cluster.arn
  namespace         = var.namespace
  service_account   = var.service_account

  tags = {
    Environment = "local"
  }
}

# Off EKS there is no web identity token to assume the role with, so a process on this
# machine (roster, or the minikube pod through a Secret) gets an access key of an IAM
# user that holds the same policy as the role and nothing else. With an emulator that
# enforces IAM (moto with INITIAL_NO_AUTH_ACTION_COUNT) roster then runs with exactly
# the permissions it has on EKS.
resource "aws_iam_user" "roster" {
  #checkov:skip=CKV_AWS_273:Emulator only: outside a cluster there is no SSO or web identity, and an IAM user's key is how a local process carries exactly roster's policy.
  name = var.local_user_name

  tags = {
    Environment = "local"
  }
}

resource "aws_iam_user_policy_attachment" "roster" {
  #checkov:skip=CKV_AWS_40:Emulator only: the user stands in for the IRSA role and must hold exactly the role's policy, attached the same way.
  user       = aws_iam_user.roster.name
  policy_arn = module.roster.policy_arn
}

resource "aws_iam_access_key" "roster" {
  user = aws_iam_user.roster.name
}

locals {
  endpoint            = trimsuffix(var.endpoint, "/")
  roster_endpoint_url = var.roster_endpoint_url == null ? local.endpoint : trimsuffix(var.roster_endpoint_url, "/")
  avatar_base_url     = var.avatar_base_url == null ? "${local.endpoint}/${module.roster.bucket_name}" : var.avatar_base_url
}
