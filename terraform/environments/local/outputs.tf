output "roster_table" {
  description = "ROSTER_TABLE: the DynamoDB users table in the emulator."
  value       = module.roster.table_name
}

output "roster_bucket" {
  description = "ROSTER_BUCKET: the avatar bucket in the emulator."
  value       = module.roster.bucket_name
}

output "aws_region" {
  description = "AWS_REGION the resources were created in."
  value       = var.region
}

output "aws_endpoint_url" {
  description = "AWS_ENDPOINT_URL for roster: the emulator as roster reaches it."
  value       = local.roster_endpoint_url
}

output "roster_avatar_base_url" {
  description = "ROSTER_AVATAR_BASE_URL: path-style base of avatar_url that a browser on this machine can load."
  value       = local.avatar_base_url
}

output "roster_role_arn" {
  description = "ARN of the roster role created in the emulator (same trust and policy as on EKS; not assumed locally: roster_access_key_id holds the same policy)."
  value       = module.roster.role_arn
}

output "roster_policy_arn" {
  description = "ARN of the IAM policy holding exactly roster's calls."
  value       = module.roster.policy_arn
}

output "roster_env" {
  description = "The environment variables for roster's AWS backend, ready for a ConfigMap or `export`; the credentials (roster_access_key_id, roster_secret_access_key) go in a Secret."
  value = {
    ROSTER_BACKEND         = "aws"
    ROSTER_TABLE           = module.roster.table_name
    ROSTER_BUCKET          = module.roster.bucket_name
    ROSTER_AVATAR_BASE_URL = local.avatar_base_url
    AWS_REGION             = var.region
    AWS_ENDPOINT_URL       = local.roster_endpoint_url
  }
}

output "roster_access_key_id" {
  description = "AWS_ACCESS_KEY_ID for roster on the emulator: the key of an IAM user holding exactly the roster policy (put it in a Secret, not the ConfigMap)."
  value       = aws_iam_access_key.roster.id
}

output "roster_secret_access_key" {
  description = "AWS_SECRET_ACCESS_KEY that goes with roster_access_key_id (`terraform output -raw roster_secret_access_key`)."
  value       = aws_iam_access_key.roster.secret
  sensitive   = true
}
