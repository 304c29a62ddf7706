using System.CommandLine;
using FcTrain.Models;

namespace FcTrain.Cli.Commands;

/// <summary><c>fctrain model path NAME</c>: where a model's Hugging Face folder is (materialising <c>tiny</c>, resolving Hub ids).</summary>
internal static class ModelCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "tiny, a model folder, or a Hub id such as google/gemma-2-2b-it." };
        var path = new Command("path", "Print the model's folder (config.json + safetensors), so other tools can load it too.") { name };
        path.SetAction(parse =>
        {
            Console.WriteLine(ModelResolver.Resolve(parse.GetValue(name)!, Console.Error.WriteLine).Folder);
            return ExitCodes.Success;
        });
        return new Command("model", "Model folders: the embedded tiny model, the Hugging Face cache.") { path };
    }
}
