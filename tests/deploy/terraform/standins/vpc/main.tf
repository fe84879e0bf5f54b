# Stand-in for the registry module terraform-aws-modules/vpc/aws v6.5.1 (commit cf73787bc163),
# which cannot be downloaded here. It declares exactly the input and output names of
# that release, so `terraform validate` of environments/aws fails on an argument or an
# output the real module does not have; every input is `any`, so the shapes inside
# them (object attributes, list element types) are not checked. It creates nothing:
# terraform_data.inputs records what environments/aws passes, evaluated, so the tests
# can read it from the plan. Outputs the environment reads have placeholder values of
# the real type; the others are null.

# As upstream main.tf counts NAT gateways and private route tables (one table per gateway).
locals {
  nat_gateway_count = var.single_nat_gateway == true ? 1 : var.one_nat_gateway_per_az == true ? length(coalesce(var.azs, [])) : length(coalesce(var.private_subnets, []))
}

variable "create_vpc" {
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

variable "cidr" {
  type    = any
  default = null
}

variable "secondary_cidr_blocks" {
  type    = any
  default = null
}

variable "instance_tenancy" {
  type    = any
  default = null
}

variable "azs" {
  type    = any
  default = null
}

variable "enable_dns_hostnames" {
  type    = any
  default = null
}

variable "enable_dns_support" {
  type    = any
  default = null
}

variable "enable_network_address_usage_metrics" {
  type    = any
  default = null
}

variable "use_ipam_pool" {
  type    = any
  default = null
}

variable "ipv4_ipam_pool_id" {
  type    = any
  default = null
}

variable "ipv4_netmask_length" {
  type    = any
  default = null
}

variable "enable_ipv6" {
  type    = any
  default = null
}

variable "ipv6_cidr" {
  type    = any
  default = null
}

variable "ipv6_ipam_pool_id" {
  type    = any
  default = null
}

variable "ipv6_netmask_length" {
  type    = any
  default = null
}

variable "ipv6_cidr_block_network_border_group" {
  type    = any
  default = null
}

variable "vpc_tags" {
  type    = any
  default = null
}

variable "vpc_block_public_access_options" {
  type    = any
  default = null
}

variable "vpc_block_public_access_exclusions" {
  type    = any
  default = null
}

variable "enable_dhcp_options" {
  type    = any
  default = null
}

variable "dhcp_options_domain_name" {
  type    = any
  default = null
}

variable "dhcp_options_domain_name_servers" {
  type    = any
  default = null
}

variable "dhcp_options_ntp_servers" {
  type    = any
  default = null
}

variable "dhcp_options_netbios_name_servers" {
  type    = any
  default = null
}

variable "dhcp_options_netbios_node_type" {
  type    = any
  default = null
}

variable "dhcp_options_ipv6_address_preferred_lease_time" {
  type    = any
  default = null
}

variable "dhcp_options_tags" {
  type    = any
  default = null
}

variable "public_subnets" {
  type    = any
  default = null
}

variable "public_subnet_assign_ipv6_address_on_creation" {
  type    = any
  default = null
}

variable "public_subnet_enable_dns64" {
  type    = any
  default = null
}

variable "public_subnet_enable_resource_name_dns_aaaa_record_on_launch" {
  type    = any
  default = null
}

variable "public_subnet_enable_resource_name_dns_a_record_on_launch" {
  type    = any
  default = null
}

variable "create_multiple_public_route_tables" {
  type    = any
  default = null
}

variable "public_subnet_ipv6_prefixes" {
  type    = any
  default = null
}

variable "public_subnet_ipv6_native" {
  type    = any
  default = null
}

variable "map_public_ip_on_launch" {
  type    = any
  default = null
}

variable "public_subnet_private_dns_hostname_type_on_launch" {
  type    = any
  default = null
}

variable "public_subnet_names" {
  type    = any
  default = null
}

variable "public_subnet_suffix" {
  type    = any
  default = null
}

variable "public_subnet_tags" {
  type    = any
  default = null
}

variable "public_subnet_tags_per_az" {
  type    = any
  default = null
}

variable "public_route_table_tags" {
  type    = any
  default = null
}

variable "public_dedicated_network_acl" {
  type    = any
  default = null
}

variable "public_inbound_acl_rules" {
  type    = any
  default = null
}

variable "public_outbound_acl_rules" {
  type    = any
  default = null
}

variable "public_acl_tags" {
  type    = any
  default = null
}

variable "private_subnets" {
  type    = any
  default = null
}

variable "private_subnet_assign_ipv6_address_on_creation" {
  type    = any
  default = null
}

variable "private_subnet_enable_dns64" {
  type    = any
  default = null
}

variable "private_subnet_enable_resource_name_dns_aaaa_record_on_launch" {
  type    = any
  default = null
}

variable "private_subnet_enable_resource_name_dns_a_record_on_launch" {
  type    = any
  default = null
}

variable "private_subnet_ipv6_prefixes" {
  type    = any
  default = null
}

variable "private_subnet_ipv6_native" {
  type    = any
  default = null
}

variable "private_subnet_private_dns_hostname_type_on_launch" {
  type    = any
  default = null
}

variable "private_subnet_names" {
  type    = any
  default = null
}

variable "private_subnet_suffix" {
  type    = any
  default = null
}

variable "create_private_nat_gateway_route" {
  type    = any
  default = null
}

variable "private_subnet_tags" {
  type    = any
  default = null
}

variable "private_subnet_tags_per_az" {
  type    = any
  default = null
}

variable "private_route_table_tags" {
  type    = any
  default = null
}

variable "private_dedicated_network_acl" {
  type    = any
  default = null
}

variable "private_inbound_acl_rules" {
  type    = any
  default = null
}

variable "private_outbound_acl_rules" {
  type    = any
  default = null
}

variable "private_acl_tags" {
  type    = any
  default = null
}

variable "database_subnets" {
  type    = any
  default = null
}

variable "database_subnet_assign_ipv6_address_on_creation" {
  type    = any
  default = null
}

variable "database_subnet_enable_dns64" {
  type    = any
  default = null
}

variable "database_subnet_enable_resource_name_dns_aaaa_record_on_launch" {
  type    = any
  default = null
}

variable "database_subnet_enable_resource_name_dns_a_record_on_launch" {
  type    = any
  default = null
}

variable "database_subnet_ipv6_prefixes" {
  type    = any
  default = null
}

variable "database_subnet_ipv6_native" {
  type    = any
  default = null
}

variable "database_subnet_private_dns_hostname_type_on_launch" {
  type    = any
  default = null
}

variable "database_subnet_names" {
  type    = any
  default = null
}

variable "database_subnet_suffix" {
  type    = any
  default = null
}

variable "create_database_subnet_route_table" {
  type    = any
  default = null
}

variable "create_database_internet_gateway_route" {
  type    = any
  default = null
}

variable "create_database_nat_gateway_route" {
  type    = any
  default = null
}

variable "database_route_table_tags" {
  type    = any
  default = null
}

variable "database_subnet_tags" {
  type    = any
  default = null
}

variable "create_database_subnet_group" {
  type    = any
  default = null
}

variable "database_subnet_group_name" {
  type    = any
  default = null
}

variable "database_subnet_group_tags" {
  type    = any
  default = null
}

variable "database_dedicated_network_acl" {
  type    = any
  default = null
}

variable "database_inbound_acl_rules" {
  type    = any
  default = null
}

variable "database_outbound_acl_rules" {
  type    = any
  default = null
}

variable "database_acl_tags" {
  type    = any
  default = null
}

variable "redshift_subnets" {
  type    = any
  default = null
}

variable "redshift_subnet_assign_ipv6_address_on_creation" {
  type    = any
  default = null
}

variable "redshift_subnet_enable_dns64" {
  type    = any
  default = null
}

variable "redshift_subnet_enable_resource_name_dns_aaaa_record_on_launch" {
  type    = any
  default = null
}

variable "redshift_subnet_enable_resource_name_dns_a_record_on_launch" {
  type    = any
  default = null
}

variable "redshift_subnet_ipv6_prefixes" {
  type    = any
  default = null
}

variable "redshift_subnet_ipv6_native" {
  type    = any
  default = null
}

variable "redshift_subnet_private_dns_hostname_type_on_launch" {
  type    = any
  default = null
}

variable "redshift_subnet_names" {
  type    = any
  default = null
}

variable "redshift_subnet_suffix" {
  type    = any
  default = null
}

variable "enable_public_redshift" {
  type    = any
  default = null
}

variable "create_redshift_subnet_route_table" {
  type    = any
  default = null
}

variable "redshift_route_table_tags" {
  type    = any
  default = null
}

variable "redshift_subnet_tags" {
  type    = any
  default = null
}

variable "create_redshift_subnet_group" {
  type    = any
  default = null
}

variable "redshift_subnet_group_name" {
  type    = any
  default = null
}

variable "redshift_subnet_group_tags" {
  type    = any
  default = null
}

variable "redshift_dedicated_network_acl" {
  type    = any
  default = null
}

variable "redshift_inbound_acl_rules" {
  type    = any
  default = null
}

variable "redshift_outbound_acl_rules" {
  type    = any
  default = null
}

variable "redshift_acl_tags" {
  type    = any
  default = null
}

variable "elasticache_subnets" {
  type    = any
  default = null
}

variable "elasticache_subnet_assign_ipv6_address_on_creation" {
  type    = any
  default = null
}

variable "elasticache_subnet_enable_dns64" {
  type    = any
  default = null
}

variable "elasticache_subnet_enable_resource_name_dns_aaaa_record_on_launch" {
  type    = any
  default = null
}

variable "elasticache_subnet_enable_resource_name_dns_a_record_on_launch" {
  type    = any
  default = null
}

variable "elasticache_subnet_ipv6_prefixes" {
  type    = any
  default = null
}

variable "elasticache_subnet_ipv6_native" {
  type    = any
  default = null
}

variable "elasticache_subnet_private_dns_hostname_type_on_launch" {
  type    = any
  default = null
}

variable "elasticache_subnet_names" {
  type    = any
  default = null
}

variable "elasticache_subnet_suffix" {
  type    = any
  default = null
}

variable "elasticache_subnet_tags" {
  type    = any
  default = null
}

variable "create_elasticache_subnet_route_table" {
  type    = any
  default = null
}

variable "elasticache_route_table_tags" {
  type    = any
  default = null
}

variable "create_elasticache_subnet_group" {
  type    = any
  default = null
}

variable "elasticache_subnet_group_name" {
  type    = any
  default = null
}

variable "elasticache_subnet_group_tags" {
  type    = any
  default = null
}

variable "elasticache_dedicated_network_acl" {
  type    = any
  default = null
}

variable "elasticache_inbound_acl_rules" {
  type    = any
  default = null
}

variable "elasticache_outbound_acl_rules" {
  type    = any
  default = null
}

variable "elasticache_acl_tags" {
  type    = any
  default = null
}

variable "intra_subnets" {
  type    = any
  default = null
}

variable "intra_subnet_assign_ipv6_address_on_creation" {
  type    = any
  default = null
}

variable "intra_subnet_enable_dns64" {
  type    = any
  default = null
}

variable "intra_subnet_enable_resource_name_dns_aaaa_record_on_launch" {
  type    = any
  default = null
}

variable "intra_subnet_enable_resource_name_dns_a_record_on_launch" {
  type    = any
  default = null
}

variable "create_multiple_intra_route_tables" {
  type    = any
  default = null
}

variable "intra_subnet_ipv6_prefixes" {
  type    = any
  default = null
}

variable "intra_subnet_ipv6_native" {
  type    = any
  default = null
}

variable "intra_subnet_private_dns_hostname_type_on_launch" {
  type    = any
  default = null
}

variable "intra_subnet_names" {
  type    = any
  default = null
}

variable "intra_subnet_suffix" {
  type    = any
  default = null
}

variable "intra_subnet_tags" {
  type    = any
  default = null
}

variable "intra_route_table_tags" {
  type    = any
  default = null
}

variable "intra_dedicated_network_acl" {
  type    = any
  default = null
}

variable "intra_inbound_acl_rules" {
  type    = any
  default = null
}

variable "intra_outbound_acl_rules" {
  type    = any
  default = null
}

variable "intra_acl_tags" {
  type    = any
  default = null
}

variable "outpost_subnets" {
  type    = any
  default = null
}

variable "outpost_subnet_assign_ipv6_address_on_creation" {
  type    = any
  default = null
}

variable "outpost_az" {
  type    = any
  default = null
}

variable "customer_owned_ipv4_pool" {
  type    = any
  default = null
}

variable "outpost_subnet_enable_dns64" {
  type    = any
  default = null
}

variable "outpost_subnet_enable_resource_name_dns_aaaa_record_on_launch" {
  type    = any
  default = null
}

variable "outpost_subnet_enable_resource_name_dns_a_record_on_launch" {
  type    = any
  default = null
}

variable "outpost_subnet_ipv6_prefixes" {
  type    = any
  default = null
}

variable "outpost_subnet_ipv6_native" {
  type    = any
  default = null
}

variable "map_customer_owned_ip_on_launch" {
  type    = any
  default = null
}

variable "outpost_arn" {
  type    = any
  default = null
}

variable "outpost_subnet_private_dns_hostname_type_on_launch" {
  type    = any
  default = null
}

variable "outpost_subnet_names" {
  type    = any
  default = null
}

variable "outpost_subnet_suffix" {
  type    = any
  default = null
}

variable "outpost_subnet_tags" {
  type    = any
  default = null
}

variable "outpost_dedicated_network_acl" {
  type    = any
  default = null
}

variable "outpost_inbound_acl_rules" {
  type    = any
  default = null
}

variable "outpost_outbound_acl_rules" {
  type    = any
  default = null
}

variable "outpost_acl_tags" {
  type    = any
  default = null
}

variable "create_igw" {
  type    = any
  default = null
}

variable "create_egress_only_igw" {
  type    = any
  default = null
}

variable "igw_tags" {
  type    = any
  default = null
}

variable "enable_nat_gateway" {
  type    = any
  default = null
}

variable "nat_gateway_destination_cidr_block" {
  type    = any
  default = null
}

variable "single_nat_gateway" {
  type    = any
  default = null
}

variable "one_nat_gateway_per_az" {
  type    = any
  default = null
}

variable "reuse_nat_ips" {
  type    = any
  default = null
}

variable "external_nat_ip_ids" {
  type    = any
  default = null
}

variable "external_nat_ips" {
  type    = any
  default = null
}

variable "nat_gateway_tags" {
  type    = any
  default = null
}

variable "nat_eip_tags" {
  type    = any
  default = null
}

variable "customer_gateways" {
  type    = any
  default = null
}

variable "customer_gateway_tags" {
  type    = any
  default = null
}

variable "enable_vpn_gateway" {
  type    = any
  default = null
}

variable "vpn_gateway_id" {
  type    = any
  default = null
}

variable "amazon_side_asn" {
  type    = any
  default = null
}

variable "vpn_gateway_az" {
  type    = any
  default = null
}

variable "propagate_intra_route_tables_vgw" {
  type    = any
  default = null
}

variable "propagate_private_route_tables_vgw" {
  type    = any
  default = null
}

variable "propagate_public_route_tables_vgw" {
  type    = any
  default = null
}

variable "vpn_gateway_tags" {
  type    = any
  default = null
}

variable "manage_default_vpc" {
  type    = any
  default = null
}

variable "default_vpc_name" {
  type    = any
  default = null
}

variable "default_vpc_enable_dns_support" {
  type    = any
  default = null
}

variable "default_vpc_enable_dns_hostnames" {
  type    = any
  default = null
}

variable "default_vpc_tags" {
  type    = any
  default = null
}

variable "manage_default_security_group" {
  type    = any
  default = null
}

variable "default_security_group_name" {
  type    = any
  default = null
}

variable "default_security_group_ingress" {
  type    = any
  default = null
}

variable "default_security_group_egress" {
  type    = any
  default = null
}

variable "default_security_group_tags" {
  type    = any
  default = null
}

variable "manage_default_network_acl" {
  type    = any
  default = null
}

variable "default_network_acl_name" {
  type    = any
  default = null
}

variable "default_network_acl_ingress" {
  type    = any
  default = null
}

variable "default_network_acl_egress" {
  type    = any
  default = null
}

variable "default_network_acl_tags" {
  type    = any
  default = null
}

variable "manage_default_route_table" {
  type    = any
  default = null
}

variable "default_route_table_name" {
  type    = any
  default = null
}

variable "default_route_table_propagating_vgws" {
  type    = any
  default = null
}

variable "default_route_table_routes" {
  type    = any
  default = null
}

variable "default_route_table_tags" {
  type    = any
  default = null
}

variable "enable_flow_log" {
  type    = any
  default = null
}

variable "vpc_flow_log_iam_role_name" {
  type    = any
  default = null
}

variable "vpc_flow_log_iam_role_path" {
  type    = any
  default = null
}

variable "vpc_flow_log_iam_role_use_name_prefix" {
  type    = any
  default = null
}

variable "vpc_flow_log_permissions_boundary" {
  type    = any
  default = null
}

variable "vpc_flow_log_iam_policy_name" {
  type    = any
  default = null
}

variable "vpc_flow_log_iam_policy_use_name_prefix" {
  type    = any
  default = null
}

variable "flow_log_max_aggregation_interval" {
  type    = any
  default = null
}

variable "flow_log_traffic_type" {
  type    = any
  default = null
}

variable "flow_log_destination_type" {
  type    = any
  default = null
}

variable "flow_log_log_format" {
  type    = any
  default = null
}

variable "flow_log_destination_arn" {
  type    = any
  default = null
}

variable "flow_log_deliver_cross_account_role" {
  type    = any
  default = null
}

variable "flow_log_file_format" {
  type    = any
  default = null
}

variable "flow_log_hive_compatible_partitions" {
  type    = any
  default = null
}

variable "flow_log_per_hour_partition" {
  type    = any
  default = null
}

variable "vpc_flow_log_tags" {
  type    = any
  default = null
}

variable "create_flow_log_cloudwatch_log_group" {
  type    = any
  default = null
}

variable "create_flow_log_cloudwatch_iam_role" {
  type    = any
  default = null
}

variable "flow_log_cloudwatch_iam_role_conditions" {
  type    = any
  default = null
}

variable "flow_log_cloudwatch_iam_role_arn" {
  type    = any
  default = null
}

variable "flow_log_cloudwatch_log_group_name_prefix" {
  type    = any
  default = null
}

variable "flow_log_cloudwatch_log_group_name_suffix" {
  type    = any
  default = null
}

variable "flow_log_cloudwatch_log_group_retention_in_days" {
  type    = any
  default = null
}

variable "flow_log_cloudwatch_log_group_kms_key_id" {
  type    = any
  default = null
}

variable "flow_log_cloudwatch_log_group_skip_destroy" {
  type    = any
  default = null
}

variable "flow_log_cloudwatch_log_group_class" {
  type    = any
  default = null
}

variable "putin_khuylo" {
  type    = any
  default = null
}

resource "terraform_data" "inputs" {
  input = {
    create_vpc                                                        = var.create_vpc
    region                                                            = var.region
    tags                                                              = var.tags
    name                                                              = var.name
    cidr                                                              = var.cidr
    secondary_cidr_blocks                                             = var.secondary_cidr_blocks
    instance_tenancy                                                  = var.instance_tenancy
    azs                                                               = var.azs
    enable_dns_hostnames                                              = var.enable_dns_hostnames
    enable_dns_support                                                = var.enable_dns_support
    enable_network_address_usage_metrics                              = var.enable_network_address_usage_metrics
    use_ipam_pool                                                     = var.use_ipam_pool
    ipv4_ipam_pool_id                                                 = var.ipv4_ipam_pool_id
    ipv4_netmask_length                                               = var.ipv4_netmask_length
    enable_ipv6                                                       = var.enable_ipv6
    ipv6_cidr                                                         = var.ipv6_cidr
    ipv6_ipam_pool_id                                                 = var.ipv6_ipam_pool_id
    ipv6_netmask_length                                               = var.ipv6_netmask_length
    ipv6_cidr_block_network_border_group                              = var.ipv6_cidr_block_network_border_group
    vpc_tags                                                          = var.vpc_tags
    vpc_block_public_access_options                                   = var.vpc_block_public_access_options
    vpc_block_public_access_exclusions                                = var.vpc_block_public_access_exclusions
    enable_dhcp_options                                               = var.enable_dhcp_options
    dhcp_options_domain_name                                          = var.dhcp_options_domain_name
    dhcp_options_domain_name_servers                                  = var.dhcp_options_domain_name_servers
    dhcp_options_ntp_servers                                          = var.dhcp_options_ntp_servers
    dhcp_options_netbios_name_servers                                 = var.dhcp_options_netbios_name_servers
    dhcp_options_netbios_node_type                                    = var.dhcp_options_netbios_node_type
    dhcp_options_ipv6_address_preferred_lease_time                    = var.dhcp_options_ipv6_address_preferred_lease_time
    dhcp_options_tags                                                 = var.dhcp_options_tags
    public_subnets                                                    = var.public_subnets
    public_subnet_assign_ipv6_address_on_creation                     = var.public_subnet_assign_ipv6_address_on_creation
    public_subnet_enable_dns64                                        = var.public_subnet_enable_dns64
    public_subnet_enable_resource_name_dns_aaaa_record_on_launch      = var.public_subnet_enable_resource_name_dns_aaaa_record_on_launch
    public_subnet_enable_resource_name_dns_a_record_on_launch         = var.public_subnet_enable_resource_name_dns_a_record_on_launch
    create_multiple_public_route_tables                               = var.create_multiple_public_route_tables
    public_subnet_ipv6_prefixes                                       = var.public_subnet_ipv6_prefixes
    public_subnet_ipv6_native                                         = var.public_subnet_ipv6_native
    map_public_ip_on_launch                                           = var.map_public_ip_on_launch
    public_subnet_private_dns_hostname_type_on_launch                 = var.public_subnet_private_dns_hostname_type_on_launch
    public_subnet_names                                               = var.public_subnet_names
    public_subnet_suffix                                              = var.public_subnet_suffix
    public_subnet_tags                                                = var.public_subnet_tags
    public_subnet_tags_per_az                                         = var.public_subnet_tags_per_az
    public_route_table_tags                                           = var.public_route_table_tags
    public_dedicated_network_acl                                      = var.public_dedicated_network_acl
    public_inbound_acl_rules                                          = var.public_inbound_acl_rules
    public_outbound_acl_rules                                         = var.public_outbound_acl_rules
    public_acl_tags                                                   = var.public_acl_tags
    private_subnets                                                   = var.private_subnets
    private_subnet_assign_ipv6_address_on_creation                    = var.private_subnet_assign_ipv6_address_on_creation
    private_subnet_enable_dns64                                       = var.private_subnet_enable_dns64
    private_subnet_enable_resource_name_dns_aaaa_record_on_launch     = var.private_subnet_enable_resource_name_dns_aaaa_record_on_launch
    private_subnet_enable_resource_name_dns_a_record_on_launch        = var.private_subnet_enable_resource_name_dns_a_record_on_launch
    private_subnet_ipv6_prefixes                                      = var.private_subnet_ipv6_prefixes
    private_subnet_ipv6_native                                        = var.private_subnet_ipv6_native
    private_subnet_private_dns_hostname_type_on_launch                = var.private_subnet_private_dns_hostname_type_on_launch
    private_subnet_names                                              = var.private_subnet_names
    private_subnet_suffix                                             = var.private_subnet_suffix
    create_private_nat_gateway_route                                  = var.create_private_nat_gateway_route
    private_subnet_tags                                               = var.private_subnet_tags
    private_subnet_tags_per_az                                        = var.private_subnet_tags_per_az
    private_route_table_tags                                          = var.private_route_table_tags
    private_dedicated_network_acl                                     = var.private_dedicated_network_acl
    private_inbound_acl_rules                                         = var.private_inbound_acl_rules
    private_outbound_acl_rules                                        = var.private_outbound_acl_rules
    private_acl_tags                                                  = var.private_acl_tags
    database_subnets                                                  = var.database_subnets
    database_subnet_assign_ipv6_address_on_creation                   = var.database_subnet_assign_ipv6_address_on_creation
    database_subnet_enable_dns64                                      = var.database_subnet_enable_dns64
    database_subnet_enable_resource_name_dns_aaaa_record_on_launch    = var.database_subnet_enable_resource_name_dns_aaaa_record_on_launch
    database_subnet_enable_resource_name_dns_a_record_on_launch       = var.database_subnet_enable_resource_name_dns_a_record_on_launch
    database_subnet_ipv6_prefixes                                     = var.database_subnet_ipv6_prefixes
    database_subnet_ipv6_native                                       = var.database_subnet_ipv6_native
    database_subnet_private_dns_hostname_type_on_launch               = var.database_subnet_private_dns_hostname_type_on_launch
    database_subnet_names                                             = var.database_subnet_names
    database_subnet_suffix                                            = var.database_subnet_suffix
    create_database_subnet_route_table                                = var.create_database_subnet_route_table
    create_database_internet_gateway_route                            = var.create_database_internet_gateway_route
    create_database_nat_gateway_route                                 = var.create_database_nat_gateway_route
    database_route_table_tags                                         = var.database_route_table_tags
    database_subnet_tags                                              = var.database_subnet_tags
    create_database_subnet_group                                      = var.create_database_subnet_group
    database_subnet_group_name                                        = var.database_subnet_group_name
    database_subnet_group_tags                                        = var.database_subnet_group_tags
    database_dedicated_network_acl                                    = var.database_dedicated_network_acl
    database_inbound_acl_rules                                        = var.database_inbound_acl_rules
    database_outbound_acl_rules                                       = var.database_outbound_acl_rules
    database_acl_tags                                                 = var.database_acl_tags
    redshift_subnets                                                  = var.redshift_subnets
    redshift_subnet_assign_ipv6_address_on_creation                   = var.redshift_subnet_assign_ipv6_address_on_creation
    redshift_subnet_enable_dns64                                      = var.redshift_subnet_enable_dns64
    redshift_subnet_enable_resource_name_dns_aaaa_record_on_launch    = var.redshift_subnet_enable_resource_name_dns_aaaa_record_on_launch
    redshift_subnet_enable_resource_name_dns_a_record_on_launch       = var.redshift_subnet_enable_resource_name_dns_a_record_on_launch
    redshift_subnet_ipv6_prefixes                                     = var.redshift_subnet_ipv6_prefixes
    redshift_subnet_ipv6_native                                       = var.redshift_subnet_ipv6_native
    redshift_subnet_private_dns_hostname_type_on_launch               = var.redshift_subnet_private_dns_hostname_type_on_launch
    redshift_subnet_names                                             = var.redshift_subnet_names
    redshift_subnet_suffix                                            = var.redshift_subnet_suffix
    enable_public_redshift                                            = var.enable_public_redshift
    create_redshift_subnet_route_table                                = var.create_redshift_subnet_route_table
    redshift_route_table_tags                                         = var.redshift_route_table_tags
    redshift_subnet_tags                                              = var.redshift_subnet_tags
    create_redshift_subnet_group                                      = var.create_redshift_subnet_group
    redshift_subnet_group_name                                        = var.redshift_subnet_group_name
    redshift_subnet_group_tags                                        = var.redshift_subnet_group_tags
    redshift_dedicated_network_acl                                    = var.redshift_dedicated_network_acl
    redshift_inbound_acl_rules                                        = var.redshift_inbound_acl_rules
    redshift_outbound_acl_rules                                       = var.redshift_outbound_acl_rules
    redshift_acl_tags                                                 = var.redshift_acl_tags
    elasticache_subnets                                               = var.elasticache_subnets
    elasticache_subnet_assign_ipv6_address_on_creation                = var.elasticache_subnet_assign_ipv6_address_on_creation
    elasticache_subnet_enable_dns64                                   = var.elasticache_subnet_enable_dns64
    elasticache_subnet_enable_resource_name_dns_aaaa_record_on_launch = var.elasticache_subnet_enable_resource_name_dns_aaaa_record_on_launch
    elasticache_subnet_enable_resource_name_dns_a_record_on_launch    = var.elasticache_subnet_enable_resource_name_dns_a_record_on_launch
    elasticache_subnet_ipv6_prefixes                                  = var.elasticache_subnet_ipv6_prefixes
    elasticache_subnet_ipv6_native                                    = var.elasticache_subnet_ipv6_native
    elasticache_subnet_private_dns_hostname_type_on_launch            = var.elasticache_subnet_private_dns_hostname_type_on_launch
    elasticache_subnet_names                                          = var.elasticache_subnet_names
    elasticache_subnet_suffix                                         = var.elasticache_subnet_suffix
    elasticache_subnet_tags                                           = var.elasticache_subnet_tags
    create_elasticache_subnet_route_table                             = var.create_elasticache_subnet_route_table
    elasticache_route_table_tags                                      = var.elasticache_route_table_tags
    create_elasticache_subnet_group                                   = var.create_elasticache_subnet_group
    elasticache_subnet_group_name                                     = var.elasticache_subnet_group_name
    elasticache_subnet_group_tags                                     = var.elasticache_subnet_group_tags
    elasticache_dedicated_network_acl                                 = var.elasticache_dedicated_network_acl
    elasticache_inbound_acl_rules                                     = var.elasticache_inbound_acl_rules
    elasticache_outbound_acl_rules                                    = var.elasticache_outbound_acl_rules
    elasticache_acl_tags                                              = var.elasticache_acl_tags
    intra_subnets                                                     = var.intra_subnets
    intra_subnet_assign_ipv6_address_on_creation                      = var.intra_subnet_assign_ipv6_address_on_creation
    intra_subnet_enable_dns64                                         = var.intra_subnet_enable_dns64
    intra_subnet_enable_resource_name_dns_aaaa_record_on_launch       = var.intra_subnet_enable_resource_name_dns_aaaa_record_on_launch
    intra_subnet_enable_resource_name_dns_a_record_on_launch          = var.intra_subnet_enable_resource_name_dns_a_record_on_launch
    create_multiple_intra_route_tables                                = var.create_multiple_intra_route_tables
    intra_subnet_ipv6_prefixes                                        = var.intra_subnet_ipv6_prefixes
    intra_subnet_ipv6_native                                          = var.intra_subnet_ipv6_native
    intra_subnet_private_dns_hostname_type_on_launch                  = var.intra_subnet_private_dns_hostname_type_on_launch
    intra_subnet_names                                                = var.intra_subnet_names
    intra_subnet_suffix                                               = var.intra_subnet_suffix
    intra_subnet_tags                                                 = var.intra_subnet_tags
    intra_route_table_tags                                            = var.intra_route_table_tags
    intra_dedicated_network_acl                                       = var.intra_dedicated_network_acl
    intra_inbound_acl_rules                                           = var.intra_inbound_acl_rules
    intra_outbound_acl_rules                                          = var.intra_outbound_acl_rules
    intra_acl_tags                                                    = var.intra_acl_tags
    outpost_subnets                                                   = var.outpost_subnets
    outpost_subnet_assign_ipv6_address_on_creation                    = var.outpost_subnet_assign_ipv6_address_on_creation
    outpost_az                                                        = var.outpost_az
    customer_owned_ipv4_pool                                          = var.customer_owned_ipv4_pool
    outpost_subnet_enable_dns64                                       = var.outpost_subnet_enable_dns64
    outpost_subnet_enable_resource_name_dns_aaaa_record_on_launch     = var.outpost_subnet_enable_resource_name_dns_aaaa_record_on_launch
    outpost_subnet_enable_resource_name_dns_a_record_on_launch        = var.outpost_subnet_enable_resource_name_dns_a_record_on_launch
    outpost_subnet_ipv6_prefixes                                      = var.outpost_subnet_ipv6_prefixes
    outpost_subnet_ipv6_native                                        = var.outpost_subnet_ipv6_native
    map_customer_owned_ip_on_launch                                   = var.map_customer_owned_ip_on_launch
    outpost_arn                                                       = var.outpost_arn
    outpost_subnet_private_dns_hostname_type_on_launch                = var.outpost_subnet_private_dns_hostname_type_on_launch
    outpost_subnet_names                                              = var.outpost_subnet_names
    outpost_subnet_suffix                                             = var.outpost_subnet_suffix
    outpost_subnet_tags                                               = var.outpost_subnet_tags
    outpost_dedicated_network_acl                                     = var.outpost_dedicated_network_acl
    outpost_inbound_acl_rules                                         = var.outpost_inbound_acl_rules
    outpost_outbound_acl_rules                                        = var.outpost_outbound_acl_rules
    outpost_acl_tags                                                  = var.outpost_acl_tags
    create_igw                                                        = var.create_igw
    create_egress_only_igw                                            = var.create_egress_only_igw
    igw_tags                                                          = var.igw_tags
    enable_nat_gateway                                                = var.enable_nat_gateway
    nat_gateway_destination_cidr_block                                = var.nat_gateway_destination_cidr_block
    single_nat_gateway                                                = var.single_nat_gateway
    one_nat_gateway_per_az                                            = var.one_nat_gateway_per_az
    reuse_nat_ips                                                     = var.reuse_nat_ips
    external_nat_ip_ids                                               = var.external_nat_ip_ids
    external_nat_ips                                                  = var.external_nat_ips
    nat_gateway_tags                                                  = var.nat_gateway_tags
    nat_eip_tags                                                      = var.nat_eip_tags
    customer_gateways                                                 = var.customer_gateways
    customer_gateway_tags                                             = var.customer_gateway_tags
    enable_vpn_gateway                                                = var.enable_vpn_gateway
    vpn_gateway_id                                                    = var.vpn_gateway_id
    amazon_side_asn                                                   = var.amazon_side_asn
    vpn_gateway_az                                                    = var.vpn_gateway_az
    propagate_intra_route_tables_vgw                                  = var.propagate_intra_route_tables_vgw
    propagate_private_route_tables_vgw                                = var.propagate_private_route_tables_vgw
    propagate_public_route_tables_vgw                                 = var.propagate_public_route_tables_vgw
    vpn_gateway_tags                                                  = var.vpn_gateway_tags
    manage_default_vpc                                                = var.manage_default_vpc
    default_vpc_name                                                  = var.default_vpc_name
    default_vpc_enable_dns_support                                    = var.default_vpc_enable_dns_support
    default_vpc_enable_dns_hostnames                                  = var.default_vpc_enable_dns_hostnames
    default_vpc_tags                                                  = var.default_vpc_tags
    manage_default_security_group                                     = var.manage_default_security_group
    default_security_group_name                                       = var.default_security_group_name
    default_security_group_ingress                                    = var.default_security_group_ingress
    default_security_group_egress                                     = var.default_security_group_egress
    default_security_group_tags                                       = var.default_security_group_tags
    manage_default_network_acl                                        = var.manage_default_network_acl
    default_network_acl_name                                          = var.default_network_acl_name
    default_network_acl_ingress                                       = var.default_network_acl_ingress
    default_network_acl_egress                                        = var.default_network_acl_egress
    default_network_acl_tags                                          = var.default_network_acl_tags
    manage_default_route_table                                        = var.manage_default_route_table
    default_route_table_name                                          = var.default_route_table_name
    default_route_table_propagating_vgws                              = var.default_route_table_propagating_vgws
    default_route_table_routes                                        = var.default_route_table_routes
    default_route_table_tags                                          = var.default_route_table_tags
    enable_flow_log                                                   = var.enable_flow_log
    vpc_flow_log_iam_role_name                                        = var.vpc_flow_log_iam_role_name
    vpc_flow_log_iam_role_path                                        = var.vpc_flow_log_iam_role_path
    vpc_flow_log_iam_role_use_name_prefix                             = var.vpc_flow_log_iam_role_use_name_prefix
    vpc_flow_log_permissions_boundary                                 = var.vpc_flow_log_permissions_boundary
    vpc_flow_log_iam_policy_name                                      = var.vpc_flow_log_iam_policy_name
    vpc_flow_log_iam_policy_use_name_prefix                           = var.vpc_flow_log_iam_policy_use_name_prefix
    flow_log_max_aggregation_interval                                 = var.flow_log_max_aggregation_interval
    flow_log_traffic_type                                             = var.flow_log_traffic_type
    flow_log_destination_type                                         = var.flow_log_destination_type
    flow_log_log_format                                               = var.flow_log_log_format
    flow_log_destination_arn                                          = var.flow_log_destination_arn
    flow_log_deliver_cross_account_role                               = var.flow_log_deliver_cross_account_role
    flow_log_file_format                                              = var.flow_log_file_format
    flow_log_hive_compatible_partitions                               = var.flow_log_hive_compatible_partitions
    flow_log_per_hour_partition                                       = var.flow_log_per_hour_partition
    vpc_flow_log_tags                                                 = var.vpc_flow_log_tags
    create_flow_log_cloudwatch_log_group                              = var.create_flow_log_cloudwatch_log_group
    create_flow_log_cloudwatch_iam_role                               = var.create_flow_log_cloudwatch_iam_role
    flow_log_cloudwatch_iam_role_conditions                           = var.flow_log_cloudwatch_iam_role_conditions
    flow_log_cloudwatch_iam_role_arn                                  = var.flow_log_cloudwatch_iam_role_arn
    flow_log_cloudwatch_log_group_name_prefix                         = var.flow_log_cloudwatch_log_group_name_prefix
    flow_log_cloudwatch_log_group_name_suffix                         = var.flow_log_cloudwatch_log_group_name_suffix
    flow_log_cloudwatch_log_group_retention_in_days                   = var.flow_log_cloudwatch_log_group_retention_in_days
    flow_log_cloudwatch_log_group_kms_key_id                          = var.flow_log_cloudwatch_log_group_kms_key_id
    flow_log_cloudwatch_log_group_skip_destroy                        = var.flow_log_cloudwatch_log_group_skip_destroy
    flow_log_cloudwatch_log_group_class                               = var.flow_log_cloudwatch_log_group_class
    putin_khuylo                                                      = var.putin_khuylo
  }
}

output "vpc_id" {
  value = "vpc-0123456789abcdef0"
}

output "vpc_arn" {
  value = null
}

output "vpc_cidr_block" {
  value = null
}

output "default_security_group_id" {
  value = null
}

output "default_network_acl_id" {
  value = null
}

output "default_route_table_id" {
  value = null
}

output "vpc_instance_tenancy" {
  value = null
}

output "vpc_enable_dns_support" {
  value = null
}

output "vpc_enable_dns_hostnames" {
  value = null
}

output "vpc_main_route_table_id" {
  value = null
}

output "vpc_ipv6_association_id" {
  value = null
}

output "vpc_ipv6_cidr_block" {
  value = null
}

output "vpc_secondary_cidr_blocks" {
  value = null
}

output "vpc_owner_id" {
  value = null
}

output "vpc_block_public_access_exclusions" {
  value = null
}

output "dhcp_options_id" {
  value = null
}

output "igw_id" {
  value = null
}

output "igw_arn" {
  value = null
}

output "public_subnet_objects" {
  value = null
}

output "public_subnets" {
  value = [for i, _ in coalesce(var.public_subnets, []) : format("subnet-%017d", 100 + i)]
}

output "public_subnet_arns" {
  value = null
}

output "public_subnets_cidr_blocks" {
  value = null
}

output "public_subnets_ipv6_cidr_blocks" {
  value = null
}

output "public_route_table_ids" {
  value = null
}

output "public_internet_gateway_route_id" {
  value = null
}

output "public_internet_gateway_ipv6_route_id" {
  value = null
}

output "public_route_table_association_ids" {
  value = null
}

output "public_network_acl_id" {
  value = null
}

output "public_network_acl_arn" {
  value = null
}

output "private_subnet_objects" {
  value = null
}

output "private_subnets" {
  value = [for i, _ in coalesce(var.private_subnets, []) : format("subnet-%017d", i)]
}

output "private_subnet_arns" {
  value = null
}

output "private_subnets_cidr_blocks" {
  value = null
}

output "private_subnets_ipv6_cidr_blocks" {
  value = null
}

output "private_route_table_ids" {
  value = [for i in range(local.nat_gateway_count) : format("rtb-%017d", i)]
}

output "private_nat_gateway_route_ids" {
  value = null
}

output "private_ipv6_egress_route_ids" {
  value = null
}

output "private_route_table_association_ids" {
  value = null
}

output "private_network_acl_id" {
  value = null
}

output "private_network_acl_arn" {
  value = null
}

output "outpost_subnet_objects" {
  value = null
}

output "outpost_subnets" {
  value = null
}

output "outpost_subnet_arns" {
  value = null
}

output "outpost_subnets_cidr_blocks" {
  value = null
}

output "outpost_subnets_ipv6_cidr_blocks" {
  value = null
}

output "outpost_network_acl_id" {
  value = null
}

output "outpost_network_acl_arn" {
  value = null
}

output "database_subnet_objects" {
  value = null
}

output "database_subnets" {
  value = null
}

output "database_subnet_arns" {
  value = null
}

output "database_subnets_cidr_blocks" {
  value = null
}

output "database_subnets_ipv6_cidr_blocks" {
  value = null
}

output "database_subnet_group" {
  value = null
}

output "database_subnet_group_name" {
  value = null
}

output "database_route_table_ids" {
  value = null
}

output "database_internet_gateway_route_id" {
  value = null
}

output "database_nat_gateway_route_ids" {
  value = null
}

output "database_ipv6_egress_route_id" {
  value = null
}

output "database_route_table_association_ids" {
  value = null
}

output "database_network_acl_id" {
  value = null
}

output "database_network_acl_arn" {
  value = null
}

output "redshift_subnet_objects" {
  value = null
}

output "redshift_subnets" {
  value = null
}

output "redshift_subnet_arns" {
  value = null
}

output "redshift_subnets_cidr_blocks" {
  value = null
}

output "redshift_subnets_ipv6_cidr_blocks" {
  value = null
}

output "redshift_subnet_group" {
  value = null
}

output "redshift_route_table_ids" {
  value = null
}

output "redshift_route_table_association_ids" {
  value = null
}

output "redshift_public_route_table_association_ids" {
  value = null
}

output "redshift_network_acl_id" {
  value = null
}

output "redshift_network_acl_arn" {
  value = null
}

output "elasticache_subnet_objects" {
  value = null
}

output "elasticache_subnets" {
  value = null
}

output "elasticache_subnet_arns" {
  value = null
}

output "elasticache_subnets_cidr_blocks" {
  value = null
}

output "elasticache_subnets_ipv6_cidr_blocks" {
  value = null
}

output "elasticache_subnet_group" {
  value = null
}

output "elasticache_subnet_group_name" {
  value = null
}

output "elasticache_route_table_ids" {
  value = null
}

output "elasticache_route_table_association_ids" {
  value = null
}

output "elasticache_network_acl_id" {
  value = null
}

output "elasticache_network_acl_arn" {
  value = null
}

output "intra_subnet_objects" {
  value = null
}

output "intra_subnets" {
  value = null
}

output "intra_subnet_arns" {
  value = null
}

output "intra_subnets_cidr_blocks" {
  value = null
}

output "intra_subnets_ipv6_cidr_blocks" {
  value = null
}

output "intra_route_table_ids" {
  value = null
}

output "intra_route_table_association_ids" {
  value = null
}

output "intra_network_acl_id" {
  value = null
}

output "intra_network_acl_arn" {
  value = null
}

output "nat_ids" {
  value = null
}

output "nat_public_ips" {
  value = null
}

output "natgw_ids" {
  value = var.enable_nat_gateway == true ? [for i in range(local.nat_gateway_count) : format("nat-%017d", i)] : []
}

output "natgw_interface_ids" {
  value = null
}

output "egress_only_internet_gateway_id" {
  value = null
}

output "cgw_ids" {
  value = null
}

output "cgw_arns" {
  value = null
}

output "this_customer_gateway" {
  value = null
}

output "vgw_id" {
  value = null
}

output "vgw_arn" {
  value = null
}

output "default_vpc_id" {
  value = null
}

output "default_vpc_arn" {
  value = null
}

output "default_vpc_cidr_block" {
  value = null
}

output "default_vpc_default_security_group_id" {
  value = null
}

output "default_vpc_default_network_acl_id" {
  value = null
}

output "default_vpc_default_route_table_id" {
  value = null
}

output "default_vpc_instance_tenancy" {
  value = null
}

output "default_vpc_enable_dns_support" {
  value = null
}

output "default_vpc_enable_dns_hostnames" {
  value = null
}

output "default_vpc_main_route_table_id" {
  value = null
}

output "vpc_flow_log_id" {
  value = null
}

output "vpc_flow_log_destination_arn" {
  value = null
}

output "vpc_flow_log_destination_type" {
  value = null
}

output "vpc_flow_log_cloudwatch_iam_role_arn" {
  value = null
}

output "vpc_flow_log_deliver_cross_account_role" {
  value = null
}

output "azs" {
  value = null
}

output "name" {
  value = null
}
