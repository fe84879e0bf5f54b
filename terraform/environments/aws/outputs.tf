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
  description = "ECR repository for roster's image: push <url>:<tag> and set it as the overlay's image."
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

output "roster_env" {
  description = "roster's AWS settings for the EKS overlay's ConfigMap (no AWS_ENDPOINT_URL on AWS; credentials come from IRSA)."
  value = {
    ROSTER_BACKEND         = "aws"
    ROSTER_TABLE           = module.roster.table_name
    ROSTER_BUCKET          = module.roster.bucket_name
    ROSTER_AVATAR_BASE_URL = module.roster.avatar_base_url
    AWS_REGION             = var.region
  }
}
