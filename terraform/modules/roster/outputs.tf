output "table_name" {
  description = "DynamoDB users table: roster's ROSTER_TABLE."
  value       = aws_dynamodb_table.users.name
}

output "table_arn" {
  description = "ARN of the users table."
  value       = aws_dynamodb_table.users.arn
}

output "bucket_name" {
  description = "S3 avatar bucket: roster's ROSTER_BUCKET."
  value       = aws_s3_bucket.avatars.bucket
}

output "bucket_arn" {
  description = "ARN of the avatar bucket."
  value       = aws_s3_bucket.avatars.arn
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the avatar bucket (<bucket>.s3.<region>.amazonaws.com)."
  value       = aws_s3_bucket.avatars.bucket_regional_domain_name
}

output "avatar_base_url" {
  description = "roster's ROSTER_AVATAR_BASE_URL: the CloudFront URL when enable_cloudfront, otherwise the bucket's own https URL (what roster uses by default; not viewable by browsers, the bucket being private)."
  value = (var.enable_cloudfront
    ? "https://${length(var.cloudfront_aliases) > 0 ? var.cloudfront_aliases[0] : aws_cloudfront_distribution.avatars[0].domain_name}"
    : "https://${aws_s3_bucket.avatars.bucket_regional_domain_name}"
  )
}

output "cloudfront_distribution_id" {
  description = "ID of the avatar distribution (for cache invalidations), or null without CloudFront."
  value       = var.enable_cloudfront ? aws_cloudfront_distribution.avatars[0].id : null
}

output "cloudfront_domain_name" {
  description = "The distribution's *.cloudfront.net host name, or null without CloudFront."
  value       = var.enable_cloudfront ? aws_cloudfront_distribution.avatars[0].domain_name : null
}

output "policy_arn" {
  description = "ARN of the IAM policy that allows exactly roster's calls on the table and bucket."
  value       = aws_iam_policy.roster.arn
}

output "role_arn" {
  description = "ARN of the IRSA role: the value of the service account's eks.amazonaws.com/role-arn annotation. Null when create_irsa_role is false."
  value       = var.create_irsa_role ? aws_iam_role.roster[0].arn : null
}

output "role_name" {
  description = "Name of the IRSA role, or null when create_irsa_role is false."
  value       = var.create_irsa_role ? aws_iam_role.roster[0].name : null
}

output "service_account_subject" {
  description = "The only web-identity subject the role trusts: system:serviceaccount:<namespace>:<service account>."
  value       = local.service_account_subject
}
