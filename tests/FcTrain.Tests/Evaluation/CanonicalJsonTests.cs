using System.Text.Json.Nodes;
using FcTrain.Evaluation;

namespace FcTrain.Tests.Evaluation;

public class CanonicalJsonTests
{
    [Theory]
    [InlineData("{\"a\": 1, \"b\": 2}", "{\"b\": 2, \"a\": 1}")]          // key order is irrelevant
    [InlineData("{\"n\": 1}", "{\"n\": 1.0}")]                           // numbers by value
    [InlineData("{\"n\": 0.5}", "{\"n\": 5e-1}")]
    [InlineData("{\"n\": 100}", "{\"n\": 1E2}")]
    [InlineData("{\"x\": {\"q\": [1, {\"z\": 2, \"y\": 3}]}}", "{\"x\": {\"q\": [1.00, {\"y\": 3, \"z\": 2}]}}")]
    public void Equal(string a, string b) => Assert.True(CanonicalJson.ValueEquals(JsonNode.Parse(a), JsonNode.Parse(b)));

    [Theory]
    [InlineData("{\"n\": 1}", "{\"n\": \"1\"}")]                         // types are kept apart
    [InlineData("{\"n\": 1}", "{\"n\": true}")]
    [InlineData("{\"n\": null}", "{}")]                                // a null argument is not a missing one
    [InlineData("{\"l\": [1, 2]}", "{\"l\": [2, 1]}")]                   // arrays are ordered
    [InlineData("{\"s\": \"Paris\"}", "{\"s\": \"paris\"}")]             // strings exactly
    [InlineData("{\"n\": 0.1}", "{\"n\": 0.10000000000000001}")]
    public void NotEqual(string a, string b) => Assert.False(CanonicalJson.ValueEquals(JsonNode.Parse(a), JsonNode.Parse(b)));

    [Fact]
    public void Normalize_SortsKeys_AndWritesNumbersByValue() =>
        Assert.Equal("{\"a\":2.5,\"b\":[3,true]}", CanonicalJson.Normalize(JsonNode.Parse("{\"b\": [3.000, true], \"a\": 2.50}"))!.ToJsonString());
}
