# ---------------------------------------------------------------------------
# Account-wide
# ---------------------------------------------------------------------------

variable "region" {
  type        = string
  description = "AWS region for everything but CloudFront (global). roster's AWS_REGION."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "environment" {
  type        = string
  description = "Environment name, used in tags and resource names."
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1-16 lower-case letters, digits and '-', starting with a letter."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags on every resource (merged into the provider's default_tags), e.g. a cost centre."
  default     = {}
}

# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------

variable "vpc_cidr" {
  type        = string
  description = "IPv4 range of the VPC. Private subnets take three /20s (from a /16), public subnets three /24s."
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) == 16
    error_message = "vpc_cidr must be a valid /16, e.g. 10.42.0.0/16."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for the three zones (cheaper; a zone outage cuts the others' egress). False: one per zone."
  default     = true
}

variable "enable_vpc_flow_logs" {
  type        = bool
  description = "Send VPC flow logs to CloudWatch Logs."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch keeps VPC flow logs and EKS control-plane logs."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's retention values (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

# ---------------------------------------------------------------------------
# EKS
# ---------------------------------------------------------------------------

variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster."
  default     = "roster"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,37}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and hold at most 38 letters, digits and '-' (node group and role names are derived from it)."
  }
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes minor version of the control plane and nodes."
  default     = "1.34"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.34."
  }
}

variable "cluster_endpoint_public_access" {
  type        = bool
  description = "Expose the Kubernetes API on a public endpoint (restricted to cluster_endpoint_public_access_cidrs). False: reachable from inside the VPC only."
  default     = true
}

variable "cluster_endpoint_public_access_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the public Kubernetes API. No default: name your own networks rather than the whole Internet."

  validation {
    condition     = length(var.cluster_endpoint_public_access_cidrs) > 0 && alltrue([for c in var.cluster_endpoint_public_access_cidrs : can(cidrnetmask(c))])
    error_message = "cluster_endpoint_public_access_cidrs must list at least one valid IPv4 CIDR."
  }
}

variable "node_instance_types" {
  type        = list(string)
  description = "Instance types of the managed node group (several help Spot capacity)."
  default     = ["t3.medium"]

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for t in var.node_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])
    error_message = "node_instance_types must list instance types like t3.medium."
  }
}

variable "node_capacity_type" {
  type        = string
  description = "ON_DEMAND or SPOT nodes."
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.node_capacity_type)
    error_message = "node_capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "node_min_size" {
  type        = number
  description = "Smallest size of the managed node group."
  default     = 2

  validation {
    condition     = var.node_min_size >= 1 && var.node_min_size <= 100
    error_message = "node_min_size must be between 1 and 100."
  }
}

variable "node_desired_size" {
  type        = number
  description = "Initial size of the managed node group (the module ignores later drift, e.g. from an autoscaler)."
  default     = 2

  validation {
    condition     = var.node_desired_size >= 1 && var.node_desired_size <= 100
    error_message = "node_desired_size must be between 1 and 100."
  }
}

variable "node_max_size" {
  type        = number
  description = "Largest size of the managed node group."
  default     = 4

  validation {
    condition     = var.node_max_size >= 1 && var.node_max_size <= 100
    error_message = "node_max_size must be between 1 and 100."
  }

  validation {
    condition     = var.node_min_size <= var.node_desired_size && var.node_desired_size <= var.node_max_size
    error_message = "Node group sizes must satisfy node_min_size <= node_desired_size <= node_max_size."
  }
}

# ---------------------------------------------------------------------------
# ECR
# ---------------------------------------------------------------------------

variable "ecr_repository_name" {
  type        = string
  description = "Name of the ECR repository for roster's image."
  default     = "roster"

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.ecr_repository_name)) && length(var.ecr_repository_name) <= 256
    error_message = "ecr_repository_name must be a valid ECR repository name (lower case, digits, '.', '_', '-', '/')."
  }
}

variable "ecr_keep_images" {
  type        = number
  description = "How many images the ECR lifecycle policy keeps (older ones are expired)."
  default     = 50

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 10000
    error_message = "ecr_keep_images must be between 1 and 10000."
  }
}

variable "ecr_force_delete" {
  type        = bool
  description = "Let `terraform destroy` delete the ECR repository while it still holds images."
  default     = false
}

# ---------------------------------------------------------------------------
# roster
# ---------------------------------------------------------------------------

variable "table_name" {
  type        = string
  description = "DynamoDB users table (roster's ROSTER_TABLE)."
  default     = "users"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "avatar_bucket_name" {
  type        = string
  description = "S3 avatar bucket (roster's ROSTER_BUCKET). Bucket names are global across all AWS accounts, so there is no default: use something unique such as roster-avatars-<account id>."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.avatar_bucket_name)) && var.avatar_bucket_name != "roster-avatars"
    error_message = "avatar_bucket_name must be 3-63 lower-case letters, digits and '-', and not the bare default roster-avatars (taken globally)."
  }
}

variable "avatar_bucket_force_destroy" {
  type        = bool
  description = "Let `terraform destroy` delete the avatar bucket with its objects and old versions. Keep false; set true (and apply) only to tear the environment down."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "DynamoDB deletion protection on the users table. Set false (and apply) before a deliberate `terraform destroy`."
  default     = true
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace roster runs in (the chart and the EKS overlay use `roster`)."
  default     = "roster"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS-1123 label."
  }
}

variable "service_account" {
  type        = string
  description = "roster's Kubernetes service account (the chart's default is `roster`)."
  default     = "roster"

  validation {
    condition     = length(var.service_account) <= 253 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", var.service_account))
    error_message = "service_account must be a DNS-1123 subdomain."
  }
}

variable "irsa_role_name" {
  type        = string
  description = "Name of roster's IRSA role (and of its policy). The EKS overlay's eks.amazonaws.com/role-arn placeholder uses `roster`; with several environments in one account, make it unique."
  default     = "roster"

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.irsa_role_name))
    error_message = "irsa_role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "cloudfront_price_class" {
  type        = string
  description = "CloudFront price class of the avatar distribution."
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cloudfront_price_class)
    error_message = "cloudfront_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "cloudfront_aliases" {
  type        = list(string)
  description = "Own host names for the avatar distribution (needs cloudfront_acm_certificate_arn)."
  default     = []
}

variable "cloudfront_acm_certificate_arn" {
  type        = string
  description = "ACM certificate in us-east-1 for cloudfront_aliases; null keeps *.cloudfront.net."
  default     = null
}

variable "cloudfront_web_acl_arn" {
  type        = string
  description = "Optional WAFv2 web ACL (CLOUDFRONT scope) for the avatar distribution."
  default     = null
}
