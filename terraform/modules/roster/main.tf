# roster's AWS side: the users table, the avatar bucket, the IAM policy that allows
# exactly what roster calls, the IRSA role of its service account, and optionally a
# CloudFront distribution that lets browsers fetch avatars from a private bucket.

locals {
  # Objects roster writes: avatars/<unique id>.<png|jpg|gif|webp>.
  avatar_prefix      = "avatars/"
  avatar_objects_arn = "${aws_s3_bucket.avatars.arn}/${local.avatar_prefix}*"

  # The IAM OIDC provider ARN ends with the issuer (host and path, no scheme);
  # IRSA's trust conditions are keyed on exactly that string.
  oidc_issuer = var.oidc_provider_arn == null ? null : element(split(":oidc-provider/", var.oidc_provider_arn), 1)

  service_account_subject = "system:serviceaccount:${var.namespace}:${var.service_account}"
}

# ---------------------------------------------------------------------------
# DynamoDB: users, keyed by the lower-cased email
# ---------------------------------------------------------------------------

resource "aws_dynamodb_table" "users" {
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS managed key aws/dynamodb. A customer managed key would force kms:* grants on roster's role, which must allow exactly the eight calls roster makes.
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "email"
  deletion_protection_enabled = var.deletion_protection

  # Only the key is declared: name and avatar_url are plain attributes of each item.
  attribute {
    name = "email"
    type = "S"
  }

  point_in_time_recovery {
    enabled                 = var.point_in_time_recovery
    recovery_period_in_days = var.point_in_time_recovery ? var.point_in_time_recovery_days : null
  }

  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}

# ---------------------------------------------------------------------------
# S3: avatars, private, versioned, encrypted, TLS only
# ---------------------------------------------------------------------------

resource "aws_s3_bucket" "avatars" {
  #checkov:skip=CKV_AWS_144:Avatars live in one region like the table they belong to; versioning plus the noncurrent-version lifecycle covers deletes and overwrites.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES-256). CloudFront Origin Access Control cannot read objects under the AWS managed aws/s3 key, and a customer managed key would need kms:* on roster's role.
  #checkov:skip=CKV2_AWS_62:Nothing consumes bucket events; roster writes and deletes objects itself.
  # Access logging is an option (var.access_log_bucket) because the target bucket is account-wide infrastructure this module does not own.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy_bucket

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs disabled: the bucket owner owns every object; access is decided by policy only.
resource "aws_s3_bucket_ownership_controls" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  rule {
    id     = "expire-old-avatar-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }

    # Once every old version has expired, drop the lone delete marker too.
    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.avatars]
}

resource "aws_s3_bucket_logging" "avatars" {
  count = var.access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.avatars.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${var.bucket_name}/"
}

data "aws_iam_policy_document" "bucket" {
  # Requests over plain HTTP or TLS < 1.2 are refused, whoever signs them. Only a local
  # emulator reached over http:// turns this off (enforce_tls = false).
  dynamic "statement" {
    for_each = var.enforce_tls ? [1] : []

    content {
      sid       = "DenyInsecureTransport"
      effect    = "Deny"
      actions   = ["s3:*"]
      resources = [aws_s3_bucket.avatars.arn, "${aws_s3_bucket.avatars.arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "Bool"
        variable = "aws:SecureTransport"
        values   = ["false"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.enforce_tls ? [1] : []

    content {
      sid       = "DenyOutdatedTls"
      effect    = "Deny"
      actions   = ["s3:*"]
      resources = [aws_s3_bucket.avatars.arn, "${aws_s3_bucket.avatars.arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "NumericLessThan"
        variable = "s3:TlsVersion"
        values   = ["1.2"]
      }
    }
  }

  # Only this distribution, signing with its Origin Access Control, may read avatars.
  dynamic "statement" {
    for_each = var.enable_cloudfront ? [1] : []

    content {
      sid       = "CloudFrontReadsAvatars"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = [local.avatar_objects_arn]

      principals {
        type        = "Service"
        identifiers = ["cloudfront.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "AWS:SourceArn"
        values   = [aws_cloudfront_distribution.avatars[0].arn]
      }
    }
  }
}

# Without TLS enforcement and without CloudFront there is nothing to say, and S3 refuses
# a policy without statements.
resource "aws_s3_bucket_policy" "avatars" {
  count = var.enforce_tls || var.enable_cloudfront ? 1 : 0

  bucket = aws_s3_bucket.avatars.id
  policy = data.aws_iam_policy_document.bucket.json

  # A policy put before the public access block exists could briefly be evaluated without it.
  depends_on = [aws_s3_bucket_public_access_block.avatars]
}

# The policy became optional (count); keep the existing one instead of replacing it,
# which would leave the bucket without its TLS-only deny for a moment.
moved {
  from = aws_s3_bucket_policy.avatars
  to   = aws_s3_bucket_policy.avatars[0]
}

# ---------------------------------------------------------------------------
# CloudFront with Origin Access Control (optional, on by default)
# ---------------------------------------------------------------------------

resource "aws_cloudfront_origin_access_control" "avatars" {
  count = var.enable_cloudfront ? 1 : 0

  name                              = substr("${var.bucket_name}-oac", 0, 64)
  description                       = "roster avatars in s3://${var.bucket_name}"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# roster stores every avatar with Cache-Control: public, max-age=<ROSTER_AVATAR_MAX_AGE>
# (300 s by default). The edge honours that header and never keeps an object longer than
# avatar_max_age_seconds even when an object lacks it, so an avatar removed by
# DELETE /user stops being served within that time. Keys are unique, so nothing but the
# path identifies an object: no header, cookie or query string is part of the key.
resource "aws_cloudfront_cache_policy" "avatars" {
  count = var.enable_cloudfront ? 1 : 0

  name    = substr("${var.bucket_name}-avatars", 0, 128)
  comment = "roster avatars: at most ${var.avatar_max_age_seconds} s at the edge"

  min_ttl     = 0
  default_ttl = var.avatar_max_age_seconds
  max_ttl     = var.avatar_max_age_seconds

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

resource "aws_cloudfront_response_headers_policy" "avatars" {
  count = var.enable_cloudfront ? 1 : 0

  name    = substr("${var.bucket_name}-security-headers", 0, 128)
  comment = "Security headers for roster avatars"

  security_headers_config {
    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "no-referrer"
      override        = true
    }

    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_security_policy {
      content_security_policy = "default-src 'none'; img-src 'self'; sandbox"
      override                = true
    }
  }
}

resource "aws_cloudfront_distribution" "avatars" {
  # WAF is an option (var.cloudfront_web_acl_arn); the distribution only serves immutable images by GET and a web ACL costs more than the avatars do.
  #checkov:skip=CKV2_AWS_47:The Log4j rule set belongs in the optional web ACL (cloudfront_web_acl_arn); the origin is S3, not a Java application.
  # Standard logging is an option (var.cloudfront_log_bucket_domain_name): it needs a bucket with ACLs enabled, which this module deliberately never creates.
  # The default *.cloudfront.net certificate cannot take a minimum protocol version; with cloudfront_acm_certificate_arn the distribution enforces TLSv1.2_2021.
  # A custom certificate needs a domain the operator owns; it is an option (cloudfront_aliases and cloudfront_acm_certificate_arn).
  #checkov:skip=CKV_AWS_310:A single S3 origin in the table's region; a failover origin would need a replicated bucket.
  #checkov:skip=CKV_AWS_305:The distribution serves only avatars/<id>.<ext>; there is no root document.
  #checkov:skip=CKV_AWS_374:Avatars go to roster's users wherever they are; a country block list is a business decision, not a security control, and the bucket behind it stays private either way.
  count = var.enable_cloudfront ? 1 : 0

  enabled         = true
  comment         = "roster avatars (s3://${var.bucket_name}/${local.avatar_prefix})"
  is_ipv6_enabled = true
  http_version    = "http2and3"
  price_class     = var.cloudfront_price_class
  aliases         = var.cloudfront_aliases
  web_acl_id      = var.cloudfront_web_acl_arn

  origin {
    origin_id                = "avatars-s3"
    domain_name              = aws_s3_bucket.avatars.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.avatars[0].id
  }

  default_cache_behavior {
    target_origin_id           = "avatars-s3"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.avatars[0].id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.avatars[0].id
  }

  dynamic "logging_config" {
    for_each = var.cloudfront_log_bucket_domain_name == null ? [] : [var.cloudfront_log_bucket_domain_name]

    content {
      bucket          = logging_config.value
      prefix          = "cloudfront/${var.bucket_name}/"
      include_cookies = false
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
      locations        = []
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.cloudfront_acm_certificate_arn == null
    acm_certificate_arn            = var.cloudfront_acm_certificate_arn
    ssl_support_method             = var.cloudfront_acm_certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.cloudfront_acm_certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }

  tags = var.tags
}

# ---------------------------------------------------------------------------
# IAM: exactly the calls roster makes, on exactly these resources
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "roster" {
  # GetItem (GET /user), PutItem with attribute_not_exists(email) (POST /user),
  # DeleteItem with ReturnValues ALL_OLD (DELETE /user), Scan (GET /users),
  # DescribeTable (/readyz).
  statement {
    sid    = "UsersTable"
    effect = "Allow"
    actions = [
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Scan",
    ]
    resources = [aws_dynamodb_table.users.arn]
  }

  # PutObject on create, DeleteObject on delete (and on a refused create).
  # roster never reads objects back: browsers get them through avatar_url.
  statement {
    sid       = "AvatarObjects"
    effect    = "Allow"
    actions   = ["s3:DeleteObject", "s3:PutObject"]
    resources = [local.avatar_objects_arn]
  }

  # HeadBucket (/readyz) is authorised as s3:ListBucket on the bucket itself.
  statement {
    sid       = "AvatarBucketReadiness"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.avatars.arn]
  }
}

resource "aws_iam_policy" "roster" {
  name        = var.policy_name
  description = "roster: users table ${var.table_name} and avatars in s3://${var.bucket_name}/${local.avatar_prefix}"
  policy      = data.aws_iam_policy_document.roster.json

  tags = var.tags
}

# Only pods running as <namespace>/<service account>, with a token minted for STS,
# may assume the role.
data "aws_iam_policy_document" "irsa_trust" {
  count = var.create_irsa_role ? 1 : 0

  statement {
    sid     = "RosterServiceAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = [local.service_account_subject]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "roster" {
  count = var.create_irsa_role ? 1 : 0

  name                 = var.role_name
  description          = "roster pods (${local.service_account_subject}) through IRSA"
  assume_role_policy   = data.aws_iam_policy_document.irsa_trust[0].json
  max_session_duration = var.max_session_duration

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.oidc_provider_arn != null
      error_message = "create_irsa_role needs oidc_provider_arn (the cluster's IAM OIDC provider)."
    }
  }
}

resource "aws_iam_role_policy_attachment" "roster" {
  count = var.create_irsa_role ? 1 : 0

  role       = aws_iam_role.roster[0].name
  policy_arn = aws_iam_policy.roster.arn
}
