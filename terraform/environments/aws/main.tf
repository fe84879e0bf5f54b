# roster on AWS: a VPC over three zones, an EKS cluster with a managed node group
# and its IAM OIDC provider, an ECR repository for the image, and the roster module
# (table, avatar bucket behind CloudFront, IAM policy, IRSA role).

data "aws_availability_zones" "available" {
  state = "available"

  # Local Zones and Wavelength zones cannot host EKS control-plane subnets.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  name = "${var.cluster_name}-${var.environment}"
  azs  = slice(data.aws_availability_zones.available.names, 0, 3)

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
  single_nat_gateway     = var.single_nat_gateway
  one_nat_gateway_per_az = !var.single_nat_gateway
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

# ---------------------------------------------------------------------------
# EKS: control plane, managed nodes in the private subnets, IAM OIDC provider
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

  # The IAM OIDC provider that IRSA trusts (the roster role below).
  enable_irsa = true

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  addons = {
    vpc-cni = {
      before_compute = true
    }
    kube-proxy = {}
    coredns    = {}
  }

  eks_managed_node_groups = {
    default = {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.node_instance_types
      capacity_type  = var.node_capacity_type

      min_size     = var.node_min_size
      max_size     = var.node_max_size
      desired_size = var.node_desired_size

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

  enable_cloudfront              = true
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
