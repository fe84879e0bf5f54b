output "roster_table" {
  description = "ROSTER_TABLE: the DynamoDB users table."
  value       = module.roster.table_name
}

output "roster_bucket" {
  description = "ROSTER_BUCKET: the avatar bucket."
  value       = module.roster.bucket_name
}

output "aws_region" {
  description = "AWS_REGION of the table, bucket and cluster."
  value       = var.region
}

output "roster_avatar_base_url" {
  description = "ROSTER_AVATAR_BASE_URL: the CloudFront distribution in front of the avatars."
  value       = module.roster.avatar_base_url
}

output "roster_role_arn" {
  description = "IRSA role for the service account: its eks.amazonaws.com/role-arn annotation."
  value       = module.roster.role_arn
}

output "roster_service_account_subject" {
  description = "The only service account the role trusts (system:serviceaccount:<namespace>:<name>)."
  value       = module.roster.service_account_subject
}

output "ecr_repository_url" {
  description = "ECR repository for roster's image (the repository variable ROSTER_ECR_REPOSITORY): push <url>@<digest> and set it as the overlay's image."
  value       = aws_ecr_repository.roster.repository_url
}

output "cloudfront_distribution_id" {
  description = "ID of the avatar distribution (for invalidations)."
  value       = module.roster.cloudfront_distribution_id
}

output "cluster_name" {
  description = "EKS cluster name."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint of the cluster."
  value       = module.eks.cluster_endpoint
}

output "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider, trusted by the roster role."
  value       = module.eks.oidc_provider_arn
}

output "kubeconfig_command" {
  description = "Command that adds the cluster to ~/.kube/config."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${module.eks.cluster_name}"
}

output "overlay_env" {
  description = "What the EKS overlay takes from Terraform (scripts/terraform-outputs-to-overlay writes it to kustomize/overlays/eks/terraform.env): exactly these seven settings."
  value = {
    ROSTER_TABLE           = module.roster.table_name
    ROSTER_BUCKET          = module.roster.bucket_name
    ROSTER_AVATAR_BASE_URL = module.roster.avatar_base_url
    AWS_REGION             = var.region
    ROSTER_ROLE_ARN        = module.roster.role_arn
    ROSTER_CERTIFICATE_ARN = local.certificate_arn
    ROSTER_HOSTNAME        = var.hostname
  }
}

output "github_actions_role_arn" {
  description = "Role GitHub Actions assumes through OIDC (main and pull requests of github_repository): the repository variable ROSTER_PUBLISH_ROLE_ARN. Null without github_repository."
  value       = local.github ? aws_iam_role.github_actions[0].arn : null
}

output "certificate_validation_records" {
  description = "DNS records that prove ownership of hostname to ACM, to create by hand when route53_zone_id is null (empty when certificate_arn was given)."
  value = local.request_certificate ? [
    for option in aws_acm_certificate.roster[0].domain_validation_options : {
      name  = option.resource_record_name
      type  = option.resource_record_type
      value = option.resource_record_value
    }
  ] : []
}

output "load_balancer_controller_role_arn" {
  description = "IRSA role of kube-system/aws-load-balancer-controller."
  value       = aws_iam_role.controller["load_balancer_controller"].arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of kube-system/cluster-autoscaler."
  value       = aws_iam_role.controller["cluster_autoscaler"].arn
}

output "nat_gateway_ids" {
  description = "The VPC's NAT gateways: one per zone in production."
  value       = module.vpc.natgw_ids
}

output "availability_zones" {
  description = "Names of the three zones (from availability_zone_ids) the subnets and node groups are in."
  value       = local.azs
}
