"""Where each requirement comes from: the reference text's sections and the standards.

Kept in one place so that every finding cites the same wording, and an auditor can map a
PlantGate rule id to IEC 62443-3-3 and NIST SP 800-53 controls.
"""

REF_TABLE = "Reference: What converges and what must not"
REF_SERVICES = "Reference: Shared services: the honest inventory"
REF_PATCH = "Reference: The patching reality, negotiated in advance"
REF_FIREWALL = "Reference: Who owns the firewall"
REF_WRITE_DOWN = "Reference: What to write down"
IEC_SR_1_1 = "IEC 62443-3-3 SR 1.1 (human user identification and authentication)"
IEC_SR_1_13 = "IEC 62443-3-3 SR 1.13 (access via untrusted networks)"
IEC_SR_2_1 = "IEC 62443-3-3 SR 2.1 (authorization enforcement)"
IEC_SR_3_4 = "IEC 62443-3-3 SR 3.4 (software and information integrity)"
IEC_SR_5_1 = "IEC 62443-3-3 SR 5.1 (network segmentation)"
IEC_SR_5_2 = "IEC 62443-3-3 SR 5.2 (zone boundary protection)"
IEC_SR_6_1 = "IEC 62443-3-3 SR 6.1 (audit log accessibility)"
IEC_SR_7_3 = "IEC 62443-3-3 SR 7.3 (control system backup)"
NIST_AC_4 = "NIST SP 800-53 AC-4 (information flow enforcement)"
NIST_CM_3 = "NIST SP 800-53 CM-3 (configuration change control)"
NIST_CM_8 = "NIST SP 800-53 CM-8 (system component inventory)"
NIST_IR_4 = "NIST SP 800-53 IR-4 (incident handling)"
NIST_PL_2 = "NIST SP 800-53 PL-2 (system security and privacy plans)"
NIST_PM_9 = "NIST SP 800-53 PM-9 (risk management strategy)"
NIST_SC_7 = "NIST SP 800-53 SC-7 (boundary protection)"
NIST_SI_2 = "NIST SP 800-53 SI-2 (flaw remediation)"
NIST_CP_9 = "NIST SP 800-53 CP-9 (system backup)"
NIST_CA_3 = "NIST SP 800-53 CA-3 (information exchange)"
