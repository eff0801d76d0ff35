"""DataModules, one per dataset, all producing the batch keys of ``seqzoo.data.batch``."""
