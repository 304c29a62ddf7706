using FcTrain.Diagnostics;
using FcTrain.Packing;
using FcTrain.Training;

namespace FcTrain.Tests.Training;

public class PackedDataVocabularyTests
{
    [Fact]
    public void Shard_ids_beyond_the_vocabulary_are_FCT0315_before_training()
    {
        var row = new PackedRow([2, 100, 383], [-100, 100, 383], [0, 1, 2], [0, 0, 0]);
        var beyond = new PackedRow([2, 384], [-100, 384], [0, 1], [0, 0]);
        var data = new PackedData { Train = [row], Eval = [beyond], ManifestJson = "{}", ManifestSha256 = "", ManifestPath = "shards/manifest.json" };

        data.CheckVocabulary(385);
        var error = Assert.Throws<FcTrainException>(() => data.CheckVocabulary(384)).Diagnostic;

        Assert.Equal("FCT0315", error.Code);
        Assert.Equal("shards/manifest.json", error.File);
        Assert.StartsWith("the shards hold token id 384, outside the model's vocabulary of 384 ids.", error.Message);
    }
}
