import json
import fastmod
print(json.dumps({"answer": fastmod.answer()}))
