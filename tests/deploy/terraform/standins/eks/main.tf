# Stand-in for the registry module terraform-aws-modules/eks/aws v21.11.0 (commit 8c7acee7484d),
# which cannot be downloaded here. It declares exactly the input and output names of
# that release, so `terraform validate` of environments/aws fails on an argument or an
# output the real module does not have; every input is `any`, so the shapes inside
# them (object attributes, list element types) are not checked. It creates nothing:
# terraform_data.inputs records what environments/aws passes, evaluated, so the tests
# can read it from the plan. Outputs the environment reads have placeholder values of
# the real type; the others are null.

variable "create" {
  type    = any
  default = null
}

variable "prefix_separator" {
  type    = any
  default = null
}

variable "region" {
  type    = any
  default = null
}

variable "tags" {
  type    = any
  default = null
}

variable "name" {
  type    = any
  default = null
}

variable "kubernetes_version" {
  type    = any
  default = null
}

variable "enabled_log_types" {
  type    = any
  default = null
}

variable "deletion_protection" {
  type    = any
  default = null
}

variable "force_update_version" {
  type    = any
  default = null
}

variable "authentication_mode" {
  type    = any
  default = null
}

variable "compute_config" {
  type    = any
  default = null
}

variable "control_plane_scaling_config" {
  type    = any
  default = null
}

variable "upgrade_policy" {
  type    = any
  default = null
}

variable "remote_network_config" {
  type    = any
  default = null
}

variable "zonal_shift_config" {
  type    = any
  default = null
}

variable "additional_security_group_ids" {
  type    = any
  default = null
}

variable "control_plane_subnet_ids" {
  type    = any
  default = null
}

variable "subnet_ids" {
  type    = any
  default = null
}

variable "endpoint_private_access" {
  type    = any
  default = null
}

variable "endpoint_public_access" {
  type    = any
  default = null
}

variable "endpoint_public_access_cidrs" {
  type    = any
  default = null
}

variable "ip_family" {
  type    = any
  default = null
}

variable "service_ipv4_cidr" {
  type    = any
  default = null
}

variable "service_ipv6_cidr" {
  type    = any
  default = null
}

variable "outpost_config" {
  type    = any
  default = null
}

variable "encryption_config" {
  type    = any
  default = null
}

variable "attach_encryption_policy" {
  type    = any
  default = null
}

variable "cluster_tags" {
  type    = any
  default = null
}

variable "create_primary_security_group_tags" {
  type    = any
  default = null
}

variable "timeouts" {
  type    = any
  default = null
}

variable "access_entries" {
  type    = any
  default = null
}

variable "enable_cluster_creator_admin_permissions" {
  type    = any
  default = null
}

variable "create_kms_key" {
  type    = any
  default = null
}

variable "kms_key_description" {
  type    = any
  default = null
}

variable "kms_key_deletion_window_in_days" {
  type    = any
  default = null
}

variable "enable_kms_key_rotation" {
  type    = any
  default = null
}

variable "kms_key_rotation_period_in_days" {
  type    = any
  default = null
}

variable "kms_key_enable_default_policy" {
  type    = any
  default = null
}

variable "kms_key_owners" {
  type    = any
  default = null
}

variable "kms_key_administrators" {
  type    = any
  default = null
}

variable "kms_key_users" {
  type    = any
  default = null
}

variable "kms_key_service_users" {
  type    = any
  default = null
}

variable "kms_key_source_policy_documents" {
  type    = any
  default = null
}

variable "kms_key_override_policy_documents" {
  type    = any
  default = null
}

variable "kms_key_aliases" {
  type    = any
  default = null
}

variable "create_cloudwatch_log_group" {
  type    = any
  default = null
}

variable "cloudwatch_log_group_retention_in_days" {
  type    = any
  default = null
}

variable "cloudwatch_log_group_kms_key_id" {
  type    = any
  default = null
}

variable "cloudwatch_log_group_class" {
  type    = any
  default = null
}

variable "cloudwatch_log_group_tags" {
  type    = any
  default = null
}

variable "create_security_group" {
  type    = any
  default = null
}

variable "security_group_id" {
  type    = any
  default = null
}

variable "vpc_id" {
  type    = any
  default = null
}

variable "security_group_name" {
  type    = any
  default = null
}

variable "security_group_use_name_prefix" {
  type    = any
  default = null
}

variable "security_group_description" {
  type    = any
  default = null
}

variable "security_group_additional_rules" {
  type    = any
  default = null
}

variable "security_group_tags" {
  type    = any
  default = null
}

variable "create_cni_ipv6_iam_policy" {
  type    = any
  default = null
}

variable "create_node_security_group" {
  type    = any
  default = null
}

variable "node_security_group_id" {
  type    = any
  default = null
}

variable "node_security_group_name" {
  type    = any
  default = null
}

variable "node_security_group_use_name_prefix" {
  type    = any
  default = null
}

variable "node_security_group_description" {
  type    = any
  default = null
}

variable "node_security_group_additional_rules" {
  type    = any
  default = null
}

variable "node_security_group_enable_recommended_rules" {
  type    = any
  default = null
}

variable "node_security_group_tags" {
  type    = any
  default = null
}

variable "enable_irsa" {
  type    = any
  default = null
}

variable "openid_connect_audiences" {
  type    = any
  default = null
}

variable "include_oidc_root_ca_thumbprint" {
  type    = any
  default = null
}

variable "custom_oidc_thumbprints" {
  type    = any
  default = null
}

variable "create_iam_role" {
  type    = any
  default = null
}

variable "iam_role_arn" {
  type    = any
  default = null
}

variable "iam_role_name" {
  type    = any
  default = null
}

variable "iam_role_use_name_prefix" {
  type    = any
  default = null
}

variable "iam_role_path" {
  type    = any
  default = null
}

variable "iam_role_description" {
  type    = any
  default = null
}

variable "iam_role_permissions_boundary" {
  type    = any
  default = null
}

variable "iam_role_additional_policies" {
  type    = any
  default = null
}

variable "iam_role_tags" {
  type    = any
  default = null
}

variable "encryption_policy_use_name_prefix" {
  type    = any
  default = null
}

variable "encryption_policy_name" {
  type    = any
  default = null
}

variable "encryption_policy_description" {
  type    = any
  default = null
}

variable "encryption_policy_path" {
  type    = any
  default = null
}

variable "encryption_policy_tags" {
  type    = any
  default = null
}

variable "dataplane_wait_duration" {
  type    = any
  default = null
}

variable "enable_auto_mode_custom_tags" {
  type    = any
  default = null
}

variable "create_auto_mode_iam_resources" {
  type    = any
  default = null
}

variable "addons" {
  type    = any
  default = null
}

variable "addons_timeouts" {
  type    = any
  default = null
}

variable "identity_providers" {
  type    = any
  default = null
}

variable "create_node_iam_role" {
  type    = any
  default = null
}

variable "node_iam_role_name" {
  type    = any
  default = null
}

variable "node_iam_role_use_name_prefix" {
  type    = any
  default = null
}

variable "node_iam_role_path" {
  type    = any
  default = null
}

variable "node_iam_role_description" {
  type    = any
  default = null
}

variable "node_iam_role_permissions_boundary" {
  type    = any
  default = null
}

variable "node_iam_role_additional_policies" {
  type    = any
  default = null
}

variable "node_iam_role_tags" {
  type    = any
  default = null
}

variable "fargate_profiles" {
  type    = any
  default = null
}

variable "self_managed_node_groups" {
  type    = any
  default = null
}

variable "eks_managed_node_groups" {
  type    = any
  default = null
}

variable "putin_khuylo" {
  type    = any
  default = null
}

resource "terraform_data" "inputs" {
  input = {
    create                                       = var.create
    prefix_separator                             = var.prefix_separator
    region                                       = var.region
    tags                                         = var.tags
    name                                         = var.name
    kubernetes_version                           = var.kubernetes_version
    enabled_log_types                            = var.enabled_log_types
    deletion_protection                          = var.deletion_protection
    force_update_version                         = var.force_update_version
    authentication_mode                          = var.authentication_mode
    compute_config                               = var.compute_config
    control_plane_scaling_config                 = var.control_plane_scaling_config
    upgrade_policy                               = var.upgrade_policy
    remote_network_config                        = var.remote_network_config
    zonal_shift_config                           = var.zonal_shift_config
    additional_security_group_ids                = var.additional_security_group_ids
    control_plane_subnet_ids                     = var.control_plane_subnet_ids
    subnet_ids                                   = var.subnet_ids
    endpoint_private_access                      = var.endpoint_private_access
    endpoint_public_access                       = var.endpoint_public_access
    endpoint_public_access_cidrs                 = var.endpoint_public_access_cidrs
    ip_family                                    = var.ip_family
    service_ipv4_cidr                            = var.service_ipv4_cidr
    service_ipv6_cidr                            = var.service_ipv6_cidr
    outpost_config                               = var.outpost_config
    encryption_config                            = var.encryption_config
    attach_encryption_policy                     = var.attach_encryption_policy
    cluster_tags                                 = var.cluster_tags
    create_primary_security_group_tags           = var.create_primary_security_group_tags
    timeouts                                     = var.timeouts
    access_entries                               = var.access_entries
    enable_cluster_creator_admin_permissions     = var.enable_cluster_creator_admin_permissions
    create_kms_key                               = var.create_kms_key
    kms_key_description                          = var.kms_key_description
    kms_key_deletion_window_in_days              = var.kms_key_deletion_window_in_days
    enable_kms_key_rotation                      = var.enable_kms_key_rotation
    kms_key_rotation_period_in_days              = var.kms_key_rotation_period_in_days
    kms_key_enable_default_policy                = var.kms_key_enable_default_policy
    kms_key_owners                               = var.kms_key_owners
    kms_key_administrators                       = var.kms_key_administrators
    kms_key_users                                = var.kms_key_users
    kms_key_service_users                        = var.kms_key_service_users
    kms_key_source_policy_documents              = var.kms_key_source_policy_documents
    kms_key_override_policy_documents            = var.kms_key_override_policy_documents
    kms_key_aliases                              = var.kms_key_aliases
    create_cloudwatch_log_group                  = var.create_cloudwatch_log_group
    cloudwatch_log_group_retention_in_days       = var.cloudwatch_log_group_retention_in_days
    cloudwatch_log_group_kms_key_id              = var.cloudwatch_log_group_kms_key_id
    cloudwatch_log_group_class                   = var.cloudwatch_log_group_class
    cloudwatch_log_group_tags                    = var.cloudwatch_log_group_tags
    create_security_group                        = var.create_security_group
    security_group_id                            = var.security_group_id
    vpc_id                                       = var.vpc_id
    security_group_name                          = var.security_group_name
    security_group_use_name_prefix               = var.security_group_use_name_prefix
    security_group_description                   = var.security_group_description
    security_group_additional_rules              = var.security_group_additional_rules
    security_group_tags                          = var.security_group_tags
    create_cni_ipv6_iam_policy                   = var.create_cni_ipv6_iam_policy
    create_node_security_group                   = var.create_node_security_group
    node_security_group_id                       = var.node_security_group_id
    node_security_group_name                     = var.node_security_group_name
    node_security_group_use_name_prefix          = var.node_security_group_use_name_prefix
    node_security_group_description              = var.node_security_group_description
    node_security_group_additional_rules         = var.node_security_group_additional_rules
    node_security_group_enable_recommended_rules = var.node_security_group_enable_recommended_rules
    node_security_group_tags                     = var.node_security_group_tags
    enable_irsa                                  = var.enable_irsa
    openid_connect_audiences                     = var.openid_connect_audiences
    include_oidc_root_ca_thumbprint              = var.include_oidc_root_ca_thumbprint
    custom_oidc_thumbprints                      = var.custom_oidc_thumbprints
    create_iam_role                              = var.create_iam_role
    iam_role_arn                                 = var.iam_role_arn
    iam_role_name                                = var.iam_role_name
    iam_role_use_name_prefix                     = var.iam_role_use_name_prefix
    iam_role_path                                = var.iam_role_path
    iam_role_description                         = var.iam_role_description
    iam_role_permissions_boundary                = var.iam_role_permissions_boundary
    iam_role_additional_policies                 = var.iam_role_additional_policies
    iam_role_tags                                = var.iam_role_tags
    encryption_policy_use_name_prefix            = var.encryption_policy_use_name_prefix
    encryption_policy_name                       = var.encryption_policy_name
    encryption_policy_description                = var.encryption_policy_description
    encryption_policy_path                       = var.encryption_policy_path
    encryption_policy_tags                       = var.encryption_policy_tags
    dataplane_wait_duration                      = var.dataplane_wait_duration
    enable_auto_mode_custom_tags                 = var.enable_auto_mode_custom_tags
    create_auto_mode_iam_resources               = var.create_auto_mode_iam_resources
    addons                                       = var.addons
    addons_timeouts                              = var.addons_timeouts
    identity_providers                           = var.identity_providers
    create_node_iam_role                         = var.create_node_iam_role
    node_iam_role_name                           = var.node_iam_role_name
    node_iam_role_use_name_prefix                = var.node_iam_role_use_name_prefix
    node_iam_role_path                           = var.node_iam_role_path
    node_iam_role_description                    = var.node_iam_role_description
    node_iam_role_permissions_boundary           = var.node_iam_role_permissions_boundary
    node_iam_role_additional_policies            = var.node_iam_role_additional_policies
    node_iam_role_tags                           = var.node_iam_role_tags
    fargate_profiles                             = var.fargate_profiles
    self_managed_node_groups                     = var.self_managed_node_groups
    eks_managed_node_groups                      = var.eks_managed_node_groups
    putin_khuylo                                 = var.putin_khuylo
  }
}

output "cluster_arn" {
  value = null
}

output "cluster_certificate_authority_data" {
  value = base64encode("stand-in certificate authority")
}

output "cluster_endpoint" {
  value = "https://0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com"
}

output "cluster_id" {
  value = null
}

output "cluster_name" {
  value = var.name
}

output "cluster_oidc_issuer_url" {
  value = "https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
}

output "cluster_dualstack_oidc_issuer_url" {
  value = null
}

output "cluster_version" {
  value = null
}

output "cluster_platform_version" {
  value = null
}

output "cluster_status" {
  value = null
}

output "cluster_primary_security_group_id" {
  value = null
}

output "cluster_service_cidr" {
  value = null
}

output "cluster_ip_family" {
  value = null
}

output "cluster_control_plane_scaling_tier" {
  value = null
}

output "access_entries" {
  value = null
}

output "access_policy_associations" {
  value = null
}

output "kms_key_arn" {
  value = null
}

output "kms_key_id" {
  value = null
}

output "kms_key_policy" {
  value = null
}

output "cluster_security_group_arn" {
  value = null
}

output "cluster_security_group_id" {
  value = null
}

output "node_security_group_arn" {
  value = null
}

output "node_security_group_id" {
  value = null
}

output "oidc_provider" {
  value = null
}

output "oidc_provider_arn" {
  value = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
}

output "cluster_tls_certificate_sha1_fingerprint" {
  value = null
}

output "cluster_iam_role_name" {
  value = null
}

output "cluster_iam_role_arn" {
  value = null
}

output "cluster_iam_role_unique_id" {
  value = null
}

output "node_iam_role_name" {
  value = null
}

output "node_iam_role_arn" {
  value = null
}

output "node_iam_role_unique_id" {
  value = null
}

output "cluster_addons" {
  value = null
}

output "cluster_identity_providers" {
  value = null
}

output "cloudwatch_log_group_name" {
  value = null
}

output "cloudwatch_log_group_arn" {
  value = null
}

output "fargate_profiles" {
  value = null
}

output "eks_managed_node_groups" {
  value = null
}

output "eks_managed_node_groups_autoscaling_group_names" {
  value = null
}

output "self_managed_node_groups" {
  value = null
}

output "self_managed_node_groups_autoscaling_group_names" {
  value = null
}
