"""python train.py [model=lstm task=many_to_one data=japanese_vowels ...]; see configs/train.yaml."""

from seqzoo.cli import train_main

if __name__ == "__main__":
    train_main()
