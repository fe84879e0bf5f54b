# roster on AWS: a VPC over three zones, an EKS cluster with one managed node group per
# zone and its IAM OIDC provider, an ECR repository for the image, and the roster module
# (table, avatar bucket behind CloudFront, IAM policy, IRSA role). The controllers the
# EKS overlay relies on (metrics-server, the AWS Load Balancer Controller, the Cluster
# Autoscaler) are in this configuration too: see helm.tf and controllers.tf.

# The zones are named by id, not picked from whatever the region lists: a zone AWS adds
# (or one that is impaired while Terraform runs) must never move subnets.
data "aws_availability_zones" "selected" {
  filter {
    name   = "zone-id"
    values = var.availability_zone_ids
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) == length(var.availability_zone_ids)
      error_message = "Every entry of availability_zone_ids must be a zone of ${var.region}."
    }
  }
}

locals {
  name = "${var.cluster_name}-${var.environment}"
  azs  = data.aws_availability_zones.selected.names

  # Production gets one NAT gateway per zone: with a single one, losing its zone cuts
  # every other zone off from STS (IRSA), ECR and the AWS APIs. Elsewhere one is the
  # cheap default; single_nat_gateway overrides it (and may not be true for prod).
  production         = contains(["prod", "production"], var.environment)
  single_nat_gateway = coalesce(var.single_nat_gateway, !local.production)

  # /16 -> three /20 private subnets (nodes and pods: 4091 addresses each) and
  # three /24 public subnets (NAT gateways and load balancers).
  private_subnets = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 4, i)]
  public_subnets  = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 8, 48 + i)]
}

# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------

module "vpc" {
  #checkov:skip=CKV_TF_1:Registry module pinned to an exact release (a registry source cannot name a commit); bumps are reviewed like code.
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.5.1"

  name = local.name
  cidr = var.vpc_cidr
  azs  = local.azs

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets

  enable_nat_gateway     = true
  single_nat_gateway     = local.single_nat_gateway
  one_nat_gateway_per_az = !local.single_nat_gateway
  enable_dns_hostnames   = true
  enable_dns_support     = true

  # The default security group of the VPC allows nothing.
  manage_default_security_group = true

  enable_flow_log                                 = var.enable_vpc_flow_logs
  create_flow_log_cloudwatch_log_group            = var.enable_vpc_flow_logs
  create_flow_log_cloudwatch_iam_role             = var.enable_vpc_flow_logs
  flow_log_cloudwatch_log_group_retention_in_days = var.log_retention_days

  # Where the AWS Load Balancer Controller places internet-facing and internal LBs.
  public_subnet_tags = {
    "kubernetes.io/role/elb" = "1"
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = "1"
  }
}

# S3 (avatars, and the ECR image layers nodes pull) and DynamoDB (users) stay inside the
# VPC: no NAT gateway is on their path, so a NAT's zone going down does not take them
# along, and avatar bytes pay no NAT processing. The endpoints keep AWS's default
# full-access policy: what a pod may do is decided by its IAM role, and a narrower
# endpoint policy would break the ECR layer downloads that go through the S3 endpoint.
resource "aws_vpc_endpoint" "gateway" {
  for_each = toset(["s3", "dynamodb"])

  vpc_id            = module.vpc.vpc_id
  service_name      = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = module.vpc.private_route_table_ids

  tags = {
    Name = "${local.name}-${each.key}"
  }
}

# ---------------------------------------------------------------------------
# EKS: control plane, one managed node group per zone, IAM OIDC provider
# ---------------------------------------------------------------------------

module "eks" {
  #checkov:skip=CKV_TF_1:Registry module pinned to an exact release (a registry source cannot name a commit); bumps are reviewed like code.
  source  = "terraform-aws-modules/eks/aws"
  version = "21.11.0"

  name               = local.name
  kubernetes_version = var.kubernetes_version

  endpoint_public_access       = var.cluster_endpoint_public_access
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  endpoint_private_access      = true

  # Control-plane logs (api, audit, authenticator) kept as long as the flow logs.
  cloudwatch_log_group_retention_in_days = var.log_retention_days

  # Whoever applies this becomes cluster admin through an access entry.
  enable_cluster_creator_admin_permissions = true

  # The IAM OIDC provider that IRSA trusts (roster's and the controllers' roles).
  enable_irsa = true

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  addons = {
    vpc-cni = {
      before_compute = true
    }
    kube-proxy = {}
    coredns    = {}
    # The resource metrics API the overlay's HorizontalPodAutoscaler reads CPU from
    # (an EKS community add-on, maintained and versioned by AWS like the others).
    metrics-server = {}
  }

  # One node group per zone, each in its zone's private subnet. The overlay spreads
  # pods over zones with DoNotSchedule, so a pod evicted from a drained node, or
  # rescheduled away from a lost zone, or added by the HPA, needs room in one particular
  # zone: the Cluster Autoscaler can only add a node in a given zone when that zone has
  # its own group (one group over three subnets puts new nodes wherever EC2 likes).
  # min_size >= 1 keeps every zone a live topology domain.
  eks_managed_node_groups = {
    for i, az in local.azs : az => {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.node_instance_types
      capacity_type  = var.node_capacity_type
      subnet_ids     = [module.vpc.private_subnets[i]]

      min_size     = var.node_min_size_per_zone
      max_size     = var.node_max_size_per_zone
      desired_size = var.node_desired_size_per_zone

      # Drain one node at a time: the others keep serving while it is replaced.
      update_config = {
        max_unavailable = 1
      }

      # IMDSv2 only, one hop: pods cannot borrow the node's role through IMDS,
      # so roster's credentials can only come from its IRSA role.
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }
    }
  }
}

# ---------------------------------------------------------------------------
# ECR: roster's image
# ---------------------------------------------------------------------------

resource "aws_ecr_repository" "roster" {
  name                 = var.ecr_repository_name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.ecr_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  # KMS with the AWS managed aws/ecr key: nodes pull with their usual ECR
  # read-only policy, no key grants to manage.
  encryption_configuration {
    encryption_type = "KMS"
  }
}

resource "aws_ecr_lifecycle_policy" "roster" {
  repository = aws_ecr_repository.roster.name

  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the ${var.ecr_keep_images} most recent images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.ecr_keep_images
      }
      action = {
        type = "expire"
      }
    }]
  })
}

# ---------------------------------------------------------------------------
# roster: table, avatar bucket with CloudFront, policy, IRSA role
# ---------------------------------------------------------------------------

module "roster" {
  source = "../../modules/roster"

  table_name           = var.table_name
  bucket_name          = var.avatar_bucket_name
  force_destroy_bucket = var.avatar_bucket_force_destroy
  deletion_protection  = var.deletion_protection

  noncurrent_version_expiration_days = var.avatar_noncurrent_version_days

  enable_cloudfront              = true
  avatar_max_age_seconds         = var.avatar_max_age_seconds
  cloudfront_price_class         = var.cloudfront_price_class
  cloudfront_aliases             = var.cloudfront_aliases
  cloudfront_acm_certificate_arn = var.cloudfront_acm_certificate_arn
  cloudfront_web_acl_arn         = var.cloudfront_web_acl_arn

  # IAM names are per account: give each environment its own irsa_role_name.
  role_name   = var.irsa_role_name
  policy_name = var.irsa_role_name

  create_irsa_role  = true
  oidc_provider_arn = module.eks.oidc_provider_arn
  namespace         = var.namespace
  service_account   = var.service_account
}
