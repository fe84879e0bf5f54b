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
  description = "Environment name, used in tags and resource names. `prod` (or `production`) means production: one NAT gateway per zone is then required."
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1-16 lower-case letters, digits and '-', starting with a letter."
  }

  validation {
    condition     = length("${var.cluster_name}-${var.environment}") <= 29
    error_message = "cluster_name-environment must be at most 29 characters: the EKS module names the cluster role <name>-cluster-<suffix>, and IAM allows 38 characters before the suffix."
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

variable "availability_zone_ids" {
  type        = list(string)
  description = "The three zones, by zone id (the same in every account, unlike names): their names come from the region, their subnets from vpc_cidr. The default suits us-east-1 (use1-az3 cannot host EKS control-plane subnets); name your region's zones when you change region."
  default     = ["use1-az1", "use1-az2", "use1-az4"]

  validation {
    condition     = length(var.availability_zone_ids) == 3 && length(distinct(var.availability_zone_ids)) == 3 && alltrue([for id in var.availability_zone_ids : can(regex("^[a-z]{2,5}[0-9]+-az[0-9]+$", id))])
    error_message = "availability_zone_ids must list three different zone ids such as use1-az1."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for the three zones (cheaper; losing its zone cuts the other zones' egress) or one per zone. Null (the default): one per zone in production (environment prod or production), a single one elsewhere. Production may not set true."
  default     = null

  validation {
    condition     = var.single_nat_gateway != true || !contains(["prod", "production"], var.environment)
    error_message = "single_nat_gateway = true makes one zone a single point of failure for every zone's access to AWS; production (environment prod or production) keeps one NAT gateway per zone."
  }
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

variable "node_min_size_per_zone" {
  type        = number
  description = "Fewest nodes in each zone's node group. At least 1, so every zone stays a topology domain the overlay's zone spread can place pods in."
  default     = 1

  validation {
    condition     = var.node_min_size_per_zone >= 1 && var.node_min_size_per_zone <= 100 && floor(var.node_min_size_per_zone) == var.node_min_size_per_zone
    error_message = "node_min_size_per_zone must be a whole number from 1 to 100."
  }
}

variable "node_desired_size_per_zone" {
  type        = number
  description = "Nodes each zone's group starts with. After creation the Cluster Autoscaler owns the size (the EKS module ignores later changes of desired size)."
  default     = 1

  validation {
    condition     = var.node_desired_size_per_zone >= 1 && var.node_desired_size_per_zone <= 100 && floor(var.node_desired_size_per_zone) == var.node_desired_size_per_zone
    error_message = "node_desired_size_per_zone must be a whole number from 1 to 100."
  }
}

variable "node_max_size_per_zone" {
  type        = number
  description = "Most nodes in each zone's group: the ceiling the Cluster Autoscaler scales to. With a zone lost, the two others must hold everything, so allow them at least half again their usual size."
  default     = 3

  validation {
    condition     = var.node_max_size_per_zone >= 2 && var.node_max_size_per_zone <= 100 && floor(var.node_max_size_per_zone) == var.node_max_size_per_zone
    error_message = "node_max_size_per_zone must be a whole number from 2 to 100: at least one node above the minimum, or there is nothing to scale to."
  }

  validation {
    condition     = var.node_min_size_per_zone <= var.node_desired_size_per_zone && var.node_desired_size_per_zone < var.node_max_size_per_zone
    error_message = "Node group sizes must satisfy node_min_size_per_zone <= node_desired_size_per_zone < node_max_size_per_zone (room to add a node in every zone)."
  }
}

variable "cluster_autoscaler_chart_version" {
  type        = string
  description = "Version of the cluster-autoscaler Helm chart (kubernetes/autoscaler); 9.53.0 is the last chart built for Kubernetes 1.34."
  default     = "9.53.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.cluster_autoscaler_chart_version))
    error_message = "cluster_autoscaler_chart_version must be an exact version such as 9.53.0."
  }
}

variable "cluster_autoscaler_image_tag" {
  type        = string
  description = "Cluster Autoscaler image tag. Its minor version must be the cluster's Kubernetes minor (the project supports each release only with its own Kubernetes minor)."
  default     = "v1.34.5"

  validation {
    condition     = startswith(var.cluster_autoscaler_image_tag, "v${var.kubernetes_version}.") && can(regex("^v1\\.[0-9]+\\.[0-9]+$", var.cluster_autoscaler_image_tag))
    error_message = "cluster_autoscaler_image_tag must be v<kubernetes_version>.<patch>, e.g. v1.34.5 for Kubernetes 1.34."
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

variable "avatar_noncurrent_version_days" {
  type        = number
  description = "Days a deleted avatar is kept as a private, non-current object version (to undo a mistaken delete) before S3 removes it for good."
  default     = 7

  validation {
    condition     = var.avatar_noncurrent_version_days >= 1 && var.avatar_noncurrent_version_days <= 3650 && floor(var.avatar_noncurrent_version_days) == var.avatar_noncurrent_version_days
    error_message = "avatar_noncurrent_version_days must be a whole number from 1 to 3650."
  }
}

variable "avatar_max_age_seconds" {
  type        = number
  description = "Longest time CloudFront serves an avatar from its cache, so a deleted one disappears from the edge within it. Keep it equal to roster's ROSTER_AVATAR_MAX_AGE (300s), the Cache-Control max-age roster writes on every object."
  default     = 300

  validation {
    condition     = var.avatar_max_age_seconds >= 1 && var.avatar_max_age_seconds <= 86400 && floor(var.avatar_max_age_seconds) == var.avatar_max_age_seconds
    error_message = "avatar_max_age_seconds must be a whole number of seconds from 1 to 86400."
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

# ---------------------------------------------------------------------------
# The public endpoint: host name and TLS certificate of the ALB
# ---------------------------------------------------------------------------

variable "hostname" {
  type        = string
  description = "Host name clients use for roster (the Ingress host, ROSTER_HOSTNAME). Point it (CNAME or alias) at the ALB the Load Balancer Controller creates."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.hostname))
    error_message = "hostname must be a lower-case DNS name such as roster.example.com."
  }
}

variable "certificate_arn" {
  type        = string
  description = "An issued ACM certificate (in region) covering hostname, for the ALB's HTTPS listener. Null: this configuration requests one with DNS validation."
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN, or null."
  }
}

variable "route53_zone_id" {
  type        = string
  description = "Route 53 hosted zone of hostname, where the requested certificate's validation record is written (and Terraform waits until it is issued). Null: create the record shown in the certificate_validation_records output yourself."
  default     = null

  validation {
    condition     = var.route53_zone_id == null || can(regex("^Z[A-Z0-9]{1,32}$", var.route53_zone_id))
    error_message = "route53_zone_id must be a hosted zone id such as Z0123456789ABCDEFGHIJ, or null."
  }
}

# ---------------------------------------------------------------------------
# GitHub Actions: publishing the image and planning, without stored keys
# ---------------------------------------------------------------------------

variable "github_repository" {
  type        = string
  description = "OWNER/REPO of roster's GitHub repository. Its workflows on main and on pull requests may assume the GitHub Actions role (push to the ECR repository, read for terraform plan). Null: no role."
  default     = null

  validation {
    condition     = var.github_repository == null || can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must look like OWNER/REPO, or be null."
  }
}

variable "create_github_oidc_provider" {
  type        = bool
  description = "Create the account's IAM OIDC provider for token.actions.githubusercontent.com. An account has at most one per URL: set false when it exists already (it is then looked up)."
  default     = true
}

variable "terraform_state_bucket" {
  type        = string
  description = "S3 bucket of this configuration's remote state (backend.tf), which the GitHub Actions role may read, and lock with the S3 lock file, for terraform plan. Null: no state access."
  default     = null

  validation {
    condition     = var.terraform_state_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.terraform_state_bucket))
    error_message = "terraform_state_bucket must be a bucket name, or null."
  }
}

variable "terraform_state_key" {
  type        = string
  description = "Key of the state object in terraform_state_bucket (backend.tf's key)."
  default     = "roster/aws/terraform.tfstate"

  validation {
    condition     = length(var.terraform_state_key) > 0 && !startswith(var.terraform_state_key, "/")
    error_message = "terraform_state_key must be a relative object key."
  }
}
