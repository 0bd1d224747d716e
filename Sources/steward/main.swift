import ArgumentParser
import StewardPipeline
print("x")
