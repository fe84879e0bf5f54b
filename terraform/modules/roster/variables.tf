# ---------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------

variable "table_name" {
  type        = string
  description = "Name of the DynamoDB users table (roster's ROSTER_TABLE)."
  default     = "users"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the users table (DynamoDB deletion protection). Turn off only for throwaway environments; destroying the table then needs this set to false first."
  default     = true
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Continuous backups of the users table (point-in-time recovery)."
  default     = true
}

variable "point_in_time_recovery_days" {
  type        = number
  description = "How many days back point-in-time recovery can restore the table to."
  default     = 35

  validation {
    condition     = var.point_in_time_recovery_days >= 1 && var.point_in_time_recovery_days <= 35 && floor(var.point_in_time_recovery_days) == var.point_in_time_recovery_days
    error_message = "point_in_time_recovery_days must be a whole number from 1 to 35."
  }
}

# ---------------------------------------------------------------------------
# S3
# ---------------------------------------------------------------------------

variable "bucket_name" {
  type        = string
  description = "Name of the S3 bucket holding avatars (roster's ROSTER_BUCKET). S3 names are global: on AWS pick one nobody else owns. Dots are refused because they break TLS for virtual-hosted-style URLs."
  default     = "roster-avatars"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name)) && !startswith(var.bucket_name, "xn--") && !endswith(var.bucket_name, "-s3alias")
    error_message = "bucket_name must be 3-63 characters of lower-case letters, digits and '-', starting and ending with a letter or digit (no dots)."
  }
}

variable "force_destroy_bucket" {
  type        = bool
  description = "Let `terraform destroy` delete the avatar bucket while it still holds objects (and their old versions). Keep false wherever avatars matter."
  default     = false
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days after which a deleted avatar's old version is removed for good (versioning keeps it until then, private, for recovering from a mistaken delete). Short on purpose: it is how long a user's picture outlives DELETE /user in the bucket."
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number from 1 to 3650."
  }
}

variable "enforce_tls" {
  type        = bool
  description = "Deny every request to the bucket over plain HTTP or TLS older than 1.2 (bucket policy). Keep true on AWS; only a local emulator reached over http:// turns it off, because emulators that evaluate bucket policies would refuse roster's plain-HTTP calls."
  default     = true
}

variable "access_log_bucket" {
  type        = string
  description = "Existing bucket that receives the avatar bucket's server access logs (null: no access logging). It must accept logs from logging.s3.amazonaws.com."
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be a valid S3 bucket name or null."
  }
}

# ---------------------------------------------------------------------------
# CloudFront (how browsers see the avatars without a public bucket)
# ---------------------------------------------------------------------------

variable "enable_cloudfront" {
  type        = bool
  description = "Put a CloudFront distribution with Origin Access Control in front of the avatars; its https URL becomes the avatar base URL. Without it the bucket stays private and avatar URLs are not viewable by browsers."
  default     = true
}

variable "avatar_max_age_seconds" {
  type        = number
  description = "Longest time CloudFront keeps an avatar (the cache policy's default and maximum TTL). roster writes Cache-Control: public, max-age=<ROSTER_AVATAR_MAX_AGE> (300 s) on every object; keep this equal to that setting, so a deleted avatar leaves the edge within it."
  default     = 300

  validation {
    condition     = var.avatar_max_age_seconds >= 1 && var.avatar_max_age_seconds <= 86400 && floor(var.avatar_max_age_seconds) == var.avatar_max_age_seconds
    error_message = "avatar_max_age_seconds must be a whole number of seconds from 1 to 86400."
  }
}

variable "cloudfront_price_class" {
  type        = string
  description = "CloudFront price class: PriceClass_100 (North America, Europe), PriceClass_200 or PriceClass_All."
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cloudfront_price_class)
    error_message = "cloudfront_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "cloudfront_aliases" {
  type        = list(string)
  description = "Extra host names (CNAMEs) for the avatar distribution, e.g. [\"avatars.example.com\"]. Needs cloudfront_acm_certificate_arn."
  default     = []

  validation {
    condition     = alltrue([for a in var.cloudfront_aliases : can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", a))])
    error_message = "Every entry of cloudfront_aliases must be a lower-case DNS name."
  }
}

variable "cloudfront_acm_certificate_arn" {
  type        = string
  description = "ACM certificate (in us-east-1) covering cloudfront_aliases. Null: the default *.cloudfront.net certificate."
  default     = null

  validation {
    condition     = var.cloudfront_acm_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/.+$", var.cloudfront_acm_certificate_arn))
    error_message = "cloudfront_acm_certificate_arn must be an ACM certificate ARN in us-east-1, or null."
  }

  validation {
    condition     = length(var.cloudfront_aliases) == 0 || var.cloudfront_acm_certificate_arn != null
    error_message = "cloudfront_aliases need cloudfront_acm_certificate_arn."
  }
}

variable "cloudfront_web_acl_arn" {
  type        = string
  description = "WAFv2 web ACL (scope CLOUDFRONT, us-east-1) to attach to the avatar distribution. Null: none."
  default     = null

  validation {
    condition     = var.cloudfront_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/.+$", var.cloudfront_web_acl_arn))
    error_message = "cloudfront_web_acl_arn must be a global (CLOUDFRONT scope) WAFv2 web ACL ARN, or null."
  }
}

variable "cloudfront_log_bucket_domain_name" {
  type        = string
  description = "Domain name (bucket.s3.amazonaws.com) of a bucket with ACLs enabled that receives CloudFront standard logs. Null: no logs."
  default     = null

  validation {
    condition     = var.cloudfront_log_bucket_domain_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\.s3(\\.[a-z0-9-]+)?\\.amazonaws\\.com$", var.cloudfront_log_bucket_domain_name))
    error_message = "cloudfront_log_bucket_domain_name must look like <bucket>.s3.amazonaws.com, or be null."
  }
}

# ---------------------------------------------------------------------------
# IAM and IRSA
# ---------------------------------------------------------------------------

variable "policy_name" {
  type        = string
  description = "Name of the IAM policy that allows exactly the calls roster makes."
  default     = "roster"

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,128}$", var.policy_name))
    error_message = "policy_name must be 1-128 characters of letters, digits and +=,.@_-."
  }
}

variable "create_irsa_role" {
  type        = bool
  description = "Create the IAM role the roster pod assumes through IRSA (needs oidc_provider_arn)."
  default     = true
}

variable "role_name" {
  type        = string
  description = "Name of the IAM role for the roster service account."
  default     = "roster"

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "oidc_provider_arn" {
  type        = string
  description = "ARN of the cluster's IAM OIDC provider, arn:aws:iam::<account>:oidc-provider/<issuer host and path>. The issuer used in the trust conditions is taken from it."
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/[^/].*$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer>), or null."
  }
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of roster's service account (the chart installs into `roster`)."
  default     = "roster"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS-1123 label: at most 63 lower-case letters, digits and '-'."
  }
}

variable "service_account" {
  type        = string
  description = "Name of roster's Kubernetes service account (the chart's default is `roster`)."
  default     = "roster"

  validation {
    condition     = length(var.service_account) <= 253 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", var.service_account))
    error_message = "service_account must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')."
  }
}

variable "max_session_duration" {
  type        = number
  description = "Longest session, in seconds, the role's credentials may last (the SDK refreshes them before they expire)."
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

# ---------------------------------------------------------------------------
# Common
# ---------------------------------------------------------------------------

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource of the module (on top of the provider's default_tags)."
  default     = {}
}
