# The ALB's certificate for var.hostname: the one given (certificate_arn), or one ACM
# issues after DNS validation. With route53_zone_id the validation record is written
# here and Terraform waits for the certificate to be issued; otherwise create the record
# from the certificate_validation_records output, and the ALB's HTTPS listener works
# once ACM has issued it.

locals {
  request_certificate = var.certificate_arn == null
  validate_in_route53 = local.request_certificate && var.route53_zone_id != null

  certificate_arn = (
    !local.request_certificate ? var.certificate_arn :
    local.validate_in_route53 ? aws_acm_certificate_validation.roster[0].certificate_arn :
    aws_acm_certificate.roster[0].arn
  )
}

resource "aws_acm_certificate" "roster" {
  count = local.request_certificate ? 1 : 0

  domain_name       = var.hostname
  validation_method = "DNS"
  key_algorithm     = "EC_prime256v1"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = local.validate_in_route53 ? {
    for option in aws_acm_certificate.roster[0].domain_validation_options : option.domain_name => option
  } : {}

  zone_id         = var.route53_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "roster" {
  count = local.validate_in_route53 ? 1 : 0

  certificate_arn         = aws_acm_certificate.roster[0].arn
  validation_record_fqdns = [for record in aws_route53_record.certificate_validation : record.fqdn]
}
