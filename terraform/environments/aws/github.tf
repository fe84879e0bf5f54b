# GitHub Actions reaches AWS through OIDC, with no stored keys: a workflow of
# var.github_repository, running on main or for a pull request, exchanges its GitHub
# token for this role's credentials. The role may push images to roster's ECR repository
# and read what `terraform plan` of this configuration reads; it can change nothing else
# and read no user data (no item of the table, no object of the bucket).
#
# Pull requests from forks get no OIDC token from GitHub, so `pull_request` here means
# branches of the repository itself, whose authors can push to it anyway. ECR tags are
# immutable, so nothing can overwrite an image main published.

locals {
  github              = var.github_repository != null
  github_oidc_host    = "token.actions.githubusercontent.com"
  github_provider_arn = !local.github ? null : (var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn)
  state_lock_key      = "${var.terraform_state_key}.tflock"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = local.github && var.create_github_oidc_provider ? 1 : 0

  url            = "https://${local.github_oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = local.github && !var.create_github_oidc_provider ? 1 : 0

  url = "https://${local.github_oidc_host}"
}

data "aws_iam_policy_document" "github_trust" {
  count = local.github ? 1 : 0

  statement {
    sid     = "MainAndPullRequests"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Exact subjects, no wildcards: no other branch, tag or environment of the
    # repository, and no other repository.
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:sub"
      values = [
        "repo:${var.github_repository}:ref:refs/heads/main",
        "repo:${var.github_repository}:pull_request",
      ]
    }
  }
}

resource "aws_iam_role" "github_actions" {
  count = local.github ? 1 : 0

  name                 = "${local.name}-github-actions"
  description          = "GitHub Actions of ${var.github_repository} (main, pull requests): push roster images, terraform plan"
  assume_role_policy   = data.aws_iam_policy_document.github_trust[0].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "github_actions" {
  count = local.github ? 1 : 0

  #checkov:skip=CKV_AWS_356:"*" only for ecr:GetAuthorizationToken (no resource exists for it) and read-only Describe/Get/List calls over what the registry modules create under names known only after apply; every write and every call on the table, bucket and repository names its ARN.

  # docker login to ECR; IAM offers no resource for it.
  statement {
    sid       = "EcrLogin"
    effect    = "Allow"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # Pushing by digest: check and upload layers, then put the manifest (and tag).
  statement {
    sid    = "PushRosterImages"
    effect = "Allow"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [aws_ecr_repository.roster.arn]
  }

  # What refreshing this configuration's state reads. Read-only by construction
  # (Describe/Get/List), and none of these read a table item or an object's content.
  statement {
    sid    = "PlanReadsInfrastructure"
    effect = "Allow"
    actions = [
      "acm:DescribeCertificate",
      "acm:GetCertificate",
      "acm:ListTagsForCertificate",
      "autoscaling:DescribeAutoScalingGroups",
      "cloudfront:GetCachePolicy",
      "cloudfront:GetDistribution",
      "cloudfront:GetDistributionConfig",
      "cloudfront:GetOriginAccessControl",
      "cloudfront:GetResponseHeadersPolicy",
      "cloudfront:ListTagsForResource",
      "ec2:Describe*",
      "ecr:DescribeRepositories",
      "ecr:GetLifecyclePolicy",
      "ecr:GetRepositoryPolicy",
      "ecr:ListTagsForResource",
      "eks:Describe*",
      "eks:List*",
      "iam:GetOpenIDConnectProvider",
      "iam:GetPolicy",
      "iam:GetPolicyVersion",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListOpenIDConnectProviders",
      "iam:ListRolePolicies",
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListResourceTags",
      "logs:DescribeLogGroups",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "route53:GetChange",
      "route53:GetHostedZone",
      "route53:ListResourceRecordSets",
      "route53:ListTagsForResource",
    ]
    resources = ["*"]
  }

  # The users table: its settings, never its items.
  statement {
    sid    = "PlanReadsTableSettings"
    effect = "Allow"
    actions = [
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:DescribeTable",
      "dynamodb:DescribeTimeToLive",
      "dynamodb:ListTagsOfResource",
    ]
    resources = [module.roster.table_arn]
  }

  # The avatar bucket: its settings, never its objects. (HeadBucket is authorised as
  # s3:ListBucket, so the role can list object keys, the random names that appear in
  # every user's public avatar_url anyway; it cannot read an object.)
  statement {
    sid    = "PlanReadsBucketSettings"
    effect = "Allow"
    actions = [
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketLogging",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketOwnershipControls",
      "s3:GetBucketPolicy",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketTagging",
      "s3:GetBucketVersioning",
      "s3:GetBucketWebsite",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:ListBucket",
    ]
    resources = [module.roster.bucket_arn]
  }

  # The remote state, and the lock file `terraform plan` takes (use_lockfile).
  dynamic "statement" {
    for_each = var.terraform_state_bucket == null ? [] : [var.terraform_state_bucket]

    content {
      sid       = "StateBucket"
      effect    = "Allow"
      actions   = ["s3:ListBucket"]
      resources = ["arn:aws:s3:::${statement.value}"]
    }
  }

  dynamic "statement" {
    for_each = var.terraform_state_bucket == null ? [] : [var.terraform_state_bucket]

    content {
      sid       = "StateRead"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = ["arn:aws:s3:::${statement.value}/${var.terraform_state_key}"]
    }
  }

  dynamic "statement" {
    for_each = var.terraform_state_bucket == null ? [] : [var.terraform_state_bucket]

    content {
      sid       = "StateLock"
      effect    = "Allow"
      actions   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
      resources = ["arn:aws:s3:::${statement.value}/${local.state_lock_key}"]
    }
  }
}

resource "aws_iam_policy" "github_actions" {
  count = local.github ? 1 : 0

  name        = "${local.name}-github-actions"
  description = "Push roster images to ${var.ecr_repository_name}; read what terraform plan of ${local.name} reads"
  policy      = data.aws_iam_policy_document.github_actions[0].json
}

resource "aws_iam_role_policy_attachment" "github_actions" {
  count = local.github ? 1 : 0

  role       = aws_iam_role.github_actions[0].name
  policy_arn = aws_iam_policy.github_actions[0].arn
}

# terraform plan also refreshes the Helm releases, and Helm keeps each release as a
# Secret in the release's namespace: read access to kube-system, nothing else.
resource "aws_eks_access_entry" "github_actions" {
  count = local.github ? 1 : 0

  cluster_name  = module.eks.cluster_name
  principal_arn = aws_iam_role.github_actions[0].arn
  type          = "STANDARD"
}

resource "aws_eks_access_policy_association" "github_actions" {
  count = local.github ? 1 : 0

  cluster_name  = module.eks.cluster_name
  principal_arn = aws_eks_access_entry.github_actions[0].principal_arn
  policy_arn    = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"

  access_scope {
    type       = "namespace"
    namespaces = ["kube-system"]
  }
}
