"""Lightning callbacks of seqzoo, configured in configs/callbacks/."""
