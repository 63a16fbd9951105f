"""Linux netfilter: iptables-save and nftables rulesets, which share one match and chain semantics."""
