// Upstream's main embeds schema-embed.json / terraform-mapping-embed.json, which
// its `go generate` writes and the module zip lacks; build.sh derives them from
// schema.json / terraform-mapping.json in the module cache next to this file.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
